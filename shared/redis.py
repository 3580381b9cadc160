"""Redis clients (redis.asyncio) as `cleanup_ctx` factories."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import redis.asyncio as aioredis
from aiohttp import web
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

Redis = aioredis.Redis


def create_client(url: str, max_connections: int = 512, pool_timeout: float = 5.0) -> Redis:
    """A client with bounded socket timeouts, so a lost server raises instead of hanging.

    The pool blocks (up to ``pool_timeout``) when all ``max_connections`` are busy instead of
    failing at once: a burst of concurrent requests, or a blocking XREAD that holds a connection,
    must queue rather than turn into errors.

    A command that fails with a connection error is retried once on a fresh connection: after a
    Redis restart every pooled connection is stale, and without the retry the first requests fail
    before the pool heals. Timeouts are not retried. The cost: a command whose reply a dropped
    connection lost runs twice, so a command that must not (a single-use claim) is made safe to
    repeat instead (see shared/pushticket.py); restapi's other writes are idempotent or harmless
    twice (a rate-limit slot, a duplicate notice).
    """
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=pool_timeout,
        socket_connect_timeout=2.0, health_check_interval=15, retry_on_timeout=False,
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
    )
    client: Redis = aioredis.Redis(connection_pool=pool)
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
            await client.connection_pool.disconnect()

    return ctx


async def ping(client: Redis) -> None:
    """Raise unless Redis answers PING."""
    await client.ping()
