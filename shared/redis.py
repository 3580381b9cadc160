"""Redis clients (redis.asyncio) as `cleanup_ctx` factories."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import redis.asyncio as aioredis
from aiohttp import web

Redis = aioredis.Redis


def create_client(url: str) -> Redis:
    """A client with bounded socket timeouts, so a lost server raises instead of hanging.

    The pool blocks (up to 5 s) for a free connection instead of raising at its bound: redis-py 8's
    default pool raises MaxConnectionsError past 100 connections, which a burst of concurrent requests
    (auth checks + rate limit + the handler's own commands) reaches.
    """
    pool = aioredis.BlockingConnectionPool.from_url(
        url, socket_connect_timeout=2.0, health_check_interval=15, retry_on_timeout=False,
        max_connections=200, timeout=5,
    )
    client: Redis = aioredis.Redis.from_pool(pool)  # the client owns the pool: aclose() closes it
    return client


def redis_ctx(key: web.AppKey[Redis], url: str) -> Callable[[web.Application], AsyncIterator[None]]:
    """A `cleanup_ctx` that puts a client under ``key`` and closes it on shutdown."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        client = create_client(url)
        app[key] = client
        try:
            yield
        finally:
            await client.aclose()

    return ctx


async def ping(client: Redis) -> None:
    """Raise unless Redis answers PING."""
    await client.ping()
