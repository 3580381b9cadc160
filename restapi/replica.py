"""Reads from a streaming replica (``DATABASE_REPLICA_URL``) with read-your-writes.

Reports, dashboards, bet history and catalog reads take ``read_pool(request, user_id)``: the
replica, unless that user wrote something in the last ``REPLICA_STICKY_SECONDS`` (a Redis key set
by ``sticky_middleware`` after every successful write request), in which case the primary, so a bet
just placed shows in the history at once. Without a replica every read uses the primary pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import aiopg
from aiohttp import web
from prometheus_client import Gauge

from restapi.auth.principal import cached_principal
from restapi.keys import PG, PG_READ, REDIS, SETTINGS
from shared.db import create_pool
from shared.web import Handler

log = logging.getLogger(__name__)

REPLICA_LAG = Gauge("pg_replica_lag_seconds", "How far the read replica's replay is behind the primary (0: caught up)")
REPLICA_LAG_BYTES = Gauge("pg_replica_lag_bytes", "WAL bytes the read replica received but has not replayed yet")
# On the standby: 0 when everything received is replayed, else the age of the last replayed commit
# (unknown, so 0, before its first replayed commit: the byte gauge still shows the backlog).
LAG_SQL = """
SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0
            WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE COALESCE(GREATEST(0, extract(epoch FROM now() - pg_last_xact_replay_timestamp())), 0) END,
       CASE WHEN NOT pg_is_in_recovery() THEN 0
            ELSE COALESCE(GREATEST(0, pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())), 0) END
"""
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def sticky_key(user_id: int) -> str:
    """The Redis key that sends ``user_id``'s reads to the primary while it lives."""
    return f"rw:{user_id}"


async def read_pool(request: web.Request, user_id: int | None) -> aiopg.Pool:
    """The pool a read of ``user_id`` (None: public data) should use."""
    app = request.app
    replica = app[PG_READ]
    if replica is app[PG] or user_id is None:
        return replica
    if await app[REDIS].exists(sticky_key(user_id)):
        return app[PG]
    return replica


@web.middleware
async def sticky_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """After a successful write by an authenticated caller, pin their reads to the primary for a while."""
    response = await handler(request)
    if request.method not in READ_METHODS and response.status < 400:
        app = request.app
        who = cached_principal(request)
        window = app[SETTINGS].replica_sticky_seconds
        if who is not None and window > 0 and app[PG_READ] is not app[PG]:
            await app[REDIS].set(sticky_key(who.user_id), b"1", px=int(window * 1000))
    return response


async def replica_lag(pool: aiopg.Pool) -> tuple[float, int]:
    """(seconds, WAL bytes) the server behind ``pool`` is behind its primary; (0, 0) when caught up or a primary."""
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(LAG_SQL)
        row = await cur.fetchone()
    return (float(row[0]), int(row[1])) if row else (0.0, 0)


async def _watch_lag(pool: aiopg.Pool, every: float) -> None:
    while True:
        try:
            seconds, backlog = await replica_lag(pool)
            REPLICA_LAG.set(seconds)
            REPLICA_LAG_BYTES.set(backlog)
        except Exception as exc:  # a replica that is down is a metric gap, not a crash
            log.warning("cannot read the replica's lag: %s", exc)
        await asyncio.sleep(every)


async def replica_ctx(app: web.Application) -> AsyncIterator[None]:
    """Open the replica pool (or alias the primary's) and export the replica's lag every 5 s."""
    settings = app[SETTINGS]
    if not settings.database_replica_url:
        app[PG_READ] = app[PG]
        yield
        return
    pool = await create_pool(settings.database_replica_url, settings.pg_pool_min, settings.pg_pool_max)
    app[PG_READ] = pool
    task = asyncio.create_task(_watch_lag(pool, 5.0))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        pool.close()
        await pool.wait_closed()
