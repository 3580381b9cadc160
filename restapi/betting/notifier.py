"""Bet notifications off the answer's path: entries queue in order and go to Redis in batches.

A placement used to await its ``notify`` XADD before answering, one Redis round trip per bet after
the money had moved. Now the handler encodes the entry (in the request's trace context) and queues
it; one writer task sends whatever has queued meanwhile as one pipeline, in queue order, so under
load one round trip carries many bets' notifications. The entry was already best effort (a Redis
failure was logged, the bet stood): the same holds, and on shutdown the writer drains the queue
for up to ``drain_timeout`` seconds before it stops.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web
from prometheus_client import Counter
from redis.exceptions import RedisError

from shared import streams
from shared.redis import Redis

log = logging.getLogger(__name__)
NOTIFY_DROPPED = Counter("notify_dropped_total", "Notify entries not written (Redis failed or the queue was full)")
MAX_BATCH = 256
MAX_QUEUED = 10_000


class NotifyWriter:
    """Queues ``notify`` entries and writes them in order, a batch per Redis round trip."""

    def __init__(self, redis: Redis, *, max_batch: int = MAX_BATCH, max_queued: int = MAX_QUEUED) -> None:
        self.redis = redis
        self.max_batch = max_batch
        self.max_queued = max_queued
        self.queue: collections.deque[dict[Any, Any]] = collections.deque()
        self.wake = asyncio.Event()
        self.idle = asyncio.Event()  # set while nothing is queued or being written
        self.idle.set()
        self.batches = 0

    def submit(self, user_id: int, kind: str, data: dict[str, Any]) -> None:
        """Queue one entry for ``user_id`` (encoded now, so it carries the caller's trace)."""
        if len(self.queue) >= self.max_queued:  # Redis is stuck: keep memory bounded, say so
            NOTIFY_DROPPED.inc()
            log.warning("notify queue full; dropped a %s entry", kind)
            return
        self.queue.append(streams.encode_notify(user_id, kind, data))
        self.idle.clear()
        self.wake.set()

    async def flush(self) -> None:
        """Write one batch of what is queued (at most ``max_batch`` entries, oldest first)."""
        batch = [self.queue.popleft() for _ in range(min(self.max_batch, len(self.queue)))]
        if not batch:
            return
        pipe = self.redis.pipeline(transaction=False)
        for fields in batch:
            pipe.xadd(streams.NOTIFY, fields, maxlen=streams.NOTIFY_MAXLEN, approximate=True)
        try:
            await pipe.execute()
            self.batches += 1
        except (RedisError, OSError) as exc:
            NOTIFY_DROPPED.inc(len(batch))
            log.warning("could not write %d notify entries: %s", len(batch), exc)

    async def run(self, stop: asyncio.Event) -> None:
        """Write batches until ``stop`` is set and the queue is empty (set ``wake`` after ``stop``)."""
        while True:
            if self.queue:
                await self.flush()
                continue
            self.idle.set()
            if stop.is_set():
                return
            self.wake.clear()
            await self.wake.wait()


def notifier_ctx(key: web.AppKey[NotifyWriter], redis_of: Callable[[web.Application], Redis],
                 drain_timeout: float = 5.0) -> Callable[[web.Application], AsyncIterator[None]]:
    """A `cleanup_ctx` owning the app's ``NotifyWriter``: drains it (bounded) on shutdown."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        writer = app[key] = NotifyWriter(redis_of(app))
        stop = asyncio.Event()
        task = asyncio.create_task(writer.run(stop), name="notify-writer")
        try:
            yield
        finally:
            stop.set()
            writer.wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(task), drain_timeout)
            except TimeoutError:
                log.warning("notify writer did not drain in %.1fs; %d entries lost", drain_timeout,
                            len(writer.queue))
                NOTIFY_DROPPED.inc(len(writer.queue))
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass

    return ctx
