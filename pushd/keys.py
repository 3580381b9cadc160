"""Typed application keys of pushd."""

from __future__ import annotations

import aiopg
from aiohttp import web

from pushd.config import PushSettings
from shared.redis import Redis

SETTINGS: web.AppKey[PushSettings] = web.AppKey("settings", PushSettings)
PG: web.AppKey[aiopg.Pool] = web.AppKey("pg", aiopg.Pool)
REDIS: web.AppKey[Redis] = web.AppKey("redis", Redis)
