"""Keep each restapi process's board current: Redis pub/sub wakes it, a poll of PostgreSQL backs it up.

``Watcher.board`` is read on every placement without I/O. The watcher subscribes to the
``switches`` channel first and loads second, so no change falls between the two; on each message it
reloads. Whatever Redis does, it also compares the audit head with its own every
``RESTAPI_SWITCH_POLL`` seconds (default 1) and reloads when it moved: a change is effective on
every process within that interval even with pub/sub lost. PostgreSQL LISTEN/NOTIFY would be the
natural wake-up, but it does not pass through PgBouncer in transaction mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

import aiopg
import psycopg2
from aiohttp import web
from prometheus_client import Gauge
from redis.exceptions import RedisError

from restapi.switches import store
from restapi.switches.model import Board
from shared.redis import Redis

log = logging.getLogger(__name__)
THROWN = Gauge("kill_switches_thrown", "Kill switches thrown, as this process sees them", ["owner"])


class Watcher:
    """The current board of this process and the loop that refreshes it."""

    def __init__(self, pool: aiopg.Pool, redis: Redis, poll: float) -> None:
        self.pool = pool
        self.redis = redis
        self.poll = poll
        self.board = Board()
        self.loaded = asyncio.Event()  # set after the first successful load

    async def refresh(self, force: bool = False) -> None:
        """Reload when the audit head moved (or ``force``); PostgreSQL errors keep the old board."""
        try:
            if force or not self.loaded.is_set() or await store.version(self.pool) != self.board.version:
                board = await store.load(self.pool)
                if board.version != self.board.version or not self.loaded.is_set():
                    log.info("kill switches loaded (version %d, %d thrown)", board.version,
                             sum(len(t) for t in board.thrown.values()))
                self.board = board
                self.loaded.set()
                THROWN.labels("house").set(len(board.thrown.get(None, {})))
                THROWN.labels("agents").set(sum(len(t) for o, t in board.thrown.items() if o is not None))
        except (psycopg2.Error, OSError) as exc:
            log.warning("could not refresh kill switches: %s", exc)

    async def run(self, stop: asyncio.Event) -> None:
        """Listen and poll until ``stop``."""
        while not stop.is_set():
            try:
                async with self.redis.pubsub() as ps:
                    await ps.subscribe(store.CHANNEL)
                    await self.refresh(force=True)
                    while not stop.is_set():
                        msg = await ps.get_message(ignore_subscribe_messages=True, timeout=self.poll)
                        await self.refresh(force=msg is not None)
            except (RedisError, OSError) as exc:
                log.warning("kill switch channel lost (%s); polling PostgreSQL", type(exc).__name__)
                await self.refresh()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.poll)


def watcher_ctx(key: web.AppKey[Watcher], pg: web.AppKey[aiopg.Pool], redis: web.AppKey[Redis],
                poll: float) -> Callable[[web.Application], AsyncIterator[None]]:
    """A ``cleanup_ctx`` that runs a ``Watcher`` for the app's lifetime (after the pools open)."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        watcher = app[key] = Watcher(app[pg], app[redis], poll)
        await watcher.refresh()
        stop = asyncio.Event()
        task = asyncio.get_running_loop().create_task(watcher.run(stop))
        yield
        stop.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return ctx
