"""Readiness checks of the two real servers, looked up in the app at request time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiopg
from aiohttp import web

from shared import db
from shared import redis as redis_mod

Check = Callable[[web.Application], Awaitable[None]]


def pg_check(key: web.AppKey[aiopg.Pool]) -> Check:
    """PostgreSQL answers SELECT 1 through the app's pool."""

    async def check(app: web.Application) -> None:
        await db.ping(app[key])

    return check


def redis_check(key: web.AppKey[redis_mod.Redis]) -> Check:
    """Redis answers PING through the app's client."""

    async def check(app: web.Application) -> None:
        await redis_mod.ping(app[key])

    return check
