"""Redis clients (redis.asyncio) as `cleanup_ctx` factories, direct or through Sentinel.

``REDIS_URL`` is ``redis://``/``rediss://`` for one server, or
``redis+sentinel://host1:26379,host2:26379,host3:26379/<master name>[/<db>]`` to ask the Sentinels
for the current primary: after a failover the pool's connections find the promoted one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import unquote

import redis.asyncio as aioredis
from aiohttp import web
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

Redis = aioredis.Redis
SENTINEL_SCHEME = "redis+sentinel://"


class SentinelBlockingConnectionPool(SentinelConnectionPool, aioredis.BlockingConnectionPool):
    """Sentinel's pool (connections go to the current primary) that queues when full, like ours."""


def parse_sentinel_url(url: str) -> tuple[list[tuple[str, int]], str, int, str | None]:
    """(sentinel addresses, master name, db, password) of a ``redis+sentinel://`` URL."""
    rest = url[len(SENTINEL_SCHEME):]
    netloc, _, path = rest.partition("/")
    password = None
    if "@" in netloc:
        auth, netloc = netloc.rsplit("@", 1)
        password = unquote(auth.partition(":")[2]) or None
    hosts = []
    for item in netloc.split(","):
        host, sep, port = item.strip().rpartition(":")
        hosts.append((host, int(port)) if sep else (port, 26379))
    parts = [p for p in path.split("/") if p]
    if not parts:
        raise ValueError("REDIS_URL: a redis+sentinel:// URL names the master: redis+sentinel://h:26379/mymaster/0")
    return hosts, parts[0], int(parts[1]) if len(parts) > 1 else 0, password


def pool_from_url(url: str, max_connections: int, timeout: float, **kwargs: Any) -> aioredis.ConnectionPool:
    """A blocking pool of ``max_connections`` for ``url`` (one server, or the primary Sentinel names)."""
    if not url.startswith(SENTINEL_SCHEME):
        return aioredis.BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=timeout,
                                                        **kwargs)
    hosts, name, db, password = parse_sentinel_url(url)
    sentinel = Sentinel(hosts, sentinel_kwargs={"socket_timeout": 1.0, "socket_connect_timeout": 1.0})  # type: ignore[no-untyped-call]
    pool: aioredis.ConnectionPool = SentinelBlockingConnectionPool(  # type: ignore[no-untyped-call]
        name, sentinel, max_connections=max_connections, timeout=timeout, db=db, password=password,
        check_connection=True, **kwargs)
    return pool


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
    pool = pool_from_url(url, max_connections, pool_timeout, socket_connect_timeout=2.0, health_check_interval=15,
                         retry_on_timeout=False, retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)))
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
