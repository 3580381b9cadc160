"""What the non-HTTP daemons (ingest, jobs) share: PG + Redis clients and a side health/metrics port."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import aiopg
from aiohttp import web

from shared.config import CommonSettings
from shared.db import create_pool
from shared.health import pg_check, redis_check
from shared.redis import Redis, create_client
from shared.web import SERVICE, add_health_routes, bound_port, harden_responses, standard_middlewares, start_side_server

log = logging.getLogger(__name__)

SIDE_PG: web.AppKey[aiopg.Pool] = web.AppKey("side_pg", aiopg.Pool)
SIDE_REDIS: web.AppKey[Redis] = web.AppKey("side_redis", Redis)


@dataclass(slots=True)
class DaemonContext:
    """The resources a daemon's loops use, and the side server's bound port."""

    pg: aiopg.Pool
    redis: Redis
    side_port: int


def side_app(service: str, pg: aiopg.Pool, redis: Redis, ready_timeout: float) -> web.Application:
    """A small app with /healthz, /readyz and /metrics for a daemon."""
    app = web.Application(middlewares=standard_middlewares())
    harden_responses(app)
    app[SERVICE] = service
    app[SIDE_PG] = pg
    app[SIDE_REDIS] = redis
    add_health_routes(app, {"postgres": pg_check(SIDE_PG), "redis": redis_check(SIDE_REDIS)}, ready_timeout)
    return app


@contextlib.asynccontextmanager
async def daemon_resources(
    service: str, settings: CommonSettings, host: str, port: int
) -> AsyncIterator[DaemonContext]:
    """Open the pool, the Redis client and the side server; close all three on exit."""
    pg = await create_pool(settings.database_url, settings.pg_pool_min, settings.pg_pool_max)
    redis = create_client(settings.redis_url)
    runner = await start_side_server(side_app(service, pg, redis, settings.ready_timeout), host, port)
    try:
        port = bound_port(runner)
        log.info("%s health and metrics on http://%s:%s", service, host, port)
        yield DaemonContext(pg, redis, port)
    finally:
        await runner.cleanup()
        await redis.aclose()
        await redis.connection_pool.disconnect()
        pg.close()
        await pg.wait_closed()


class Loop(Protocol):
    """A long-running task of a daemon (an ingest poller, a background job)."""

    name: str

    async def run(self, stop: asyncio.Event) -> None: ...


async def run_loops(loops: Sequence[Loop], stop: asyncio.Event) -> None:
    """Run every loop until ``stop`` is set and all of them ended; one that fails cancels the rest."""
    async with asyncio.TaskGroup() as tg:
        for loop in loops:
            tg.create_task(loop.run(stop), name=loop.name)
        await stop.wait()
