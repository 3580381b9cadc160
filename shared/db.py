"""PostgreSQL pools (aiopg) as `cleanup_ctx` factories, and a helper to run named queries."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiopg
from aiohttp import web


async def create_pool(dsn: str, minsize: int = 1, maxsize: int = 10) -> aiopg.Pool:
    """Open a pool; statements time out after 30 s so one stuck query cannot hold a connection forever."""
    return await aiopg.create_pool(
        dsn, minsize=minsize, maxsize=maxsize, timeout=30.0, options="-c statement_timeout=30000"
    )


def pg_pool_ctx(
    key: web.AppKey[aiopg.Pool], dsn: str, minsize: int = 1, maxsize: int = 10
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A `cleanup_ctx` that opens the pool under ``key`` and closes it on shutdown."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        pool = await create_pool(dsn, minsize, maxsize)
        app[key] = pool
        try:
            yield
        finally:
            pool.close()
            await pool.wait_closed()

    return ctx


async def fetch_one(pool: aiopg.Pool, sql: str, params: dict[str, Any] | None = None) -> tuple[Any, ...] | None:
    """Run ``sql`` and return its first row (or None)."""
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(sql, params)
        row: tuple[Any, ...] | None = await cur.fetchone()
        return row


async def ping(pool: aiopg.Pool) -> None:
    """Raise unless PostgreSQL answers ``SELECT 1``."""
    await fetch_one(pool, "SELECT 1")
