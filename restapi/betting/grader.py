"""The grader job: consumer group ``grader`` on the ``results`` stream, run by ``python -m restapi.jobs``.

Each entry (a final or cancelled score) is graded in one PostgreSQL transaction and acknowledged
(XACK) only after it committed, so a crash between the two re-delivers it, which changes nothing
(grading is idempotent). On start, and after an error, a worker first re-reads its own pending
entries; every ``BETTING_GRADER_CLAIM_IDLE`` / 2 seconds it takes over (XAUTOCLAIM) entries another
worker left unacknowledged for longer than that. A sweep also grades legs of events the catalog
already has as final, which covers a bet committed just after its event's result was processed, and
voids legs of games with no result ``BETTING_VOID_AFTER_HOURS`` after their start (the house rule for
postponed or abandoned games, which The Odds API does not announce).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from typing import Any

import psycopg2
from redis.exceptions import RedisError, ResponseError

from restapi.betting import settlement
from restapi.config import RestSettings
from shared import streams
from shared.clock import Clock, utc_now
from shared.daemon import DaemonContext
from shared.streams import text

log = logging.getLogger(__name__)

GROUP = "grader"
RETRY_SECONDS = 1.0


class Grader:
    """Reads ``results`` as one consumer of the ``grader`` group and settles bets."""

    name = "grader"

    def __init__(self, ctx: DaemonContext, settings: RestSettings, clock: Clock = utc_now) -> None:
        self.pool = ctx.pg
        self.clock = clock  # the void rule's now
        self.redis = ctx.redis
        self.settings = settings
        self.consumer = f"{socket.gethostname()}-{os.getpid()}-{id(self):x}"
        self.backlog = True  # our own delivered-but-unacknowledged entries come first
        self.claim_cursor = "0-0"
        self.graded = 0  # entries processed (tests and logs)

    async def run(self, stop: asyncio.Event) -> None:
        """Grade until ``stop`` is set; Redis or PostgreSQL failures are retried after a pause."""
        next_claim = next_sweep = 0.0
        group_ready = False
        while not stop.is_set():
            try:
                if not group_ready:
                    await self.ensure_group()
                    group_ready = True
                now = time.monotonic()
                if now >= next_claim:
                    await self.claim_stale()
                    next_claim = now + self.settings.grader_claim_idle / 2
                if now >= next_sweep:
                    await settlement.sweep(self.pool, self.redis, void_after_hours=self.settings.void_after_hours,
                                           now=self.clock())
                    next_sweep = now + self.settings.grader_sweep
                await self.read_once(stop)
            except (RedisError, OSError, psycopg2.Error) as exc:
                if isinstance(exc, ResponseError) and "NOGROUP" in str(exc):
                    group_ready = False  # the stream or group was lost (Redis restarted empty)
                log.warning("grader: %s: %s; retrying", type(exc).__name__, exc)
                self.backlog = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), RETRY_SECONDS)

    async def ensure_group(self) -> None:
        """Create the group at the start of the stream (old results are harmless to grade again)."""
        try:
            await self.redis.xgroup_create(streams.RESULTS, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def read_once(self, stop: asyncio.Event) -> None:
        """Process one batch: our own backlog first, else new entries (blocking until one comes or stop)."""
        if self.backlog:
            resp = await self.redis.xreadgroup(GROUP, self.consumer, {streams.RESULTS: "0"},
                                               count=self.settings.grader_batch)
            entries = _entries(resp)
            if not entries:
                self.backlog = False
            await self.handle(entries)
            return
        read = asyncio.ensure_future(self.redis.xreadgroup(
            GROUP, self.consumer, {streams.RESULTS: ">"}, count=self.settings.grader_batch,
            block=self.settings.grader_block_ms))
        stopped = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait({read, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if read not in done:
            read.cancel()
            with contextlib.suppress(asyncio.CancelledError, RedisError, OSError):
                await read
            return
        await self.handle(_entries(read.result()))

    async def claim_stale(self) -> None:
        """Take over entries another consumer left unacknowledged for too long, and grade them."""
        idle_ms = int(self.settings.grader_claim_idle * 1000)
        for _ in range(100):  # bounded: at most 100 batches per claim round
            nxt, claimed, *_ = await self.redis.xautoclaim(
                streams.RESULTS, GROUP, self.consumer, min_idle_time=idle_ms, start_id=self.claim_cursor,
                count=self.settings.grader_batch)
            self.claim_cursor = text(nxt)
            await self.handle(list(claimed))
            if self.claim_cursor == "0-0":
                break

    async def handle(self, entries: list[tuple[Any, dict[Any, Any]]]) -> None:
        """Grade each entry, then acknowledge it; an entry that cannot be decoded is logged and dropped."""
        for entry_id, fields in entries:
            if not fields:  # deleted from the stream (trimmed) while pending: nothing to grade
                await self.redis.xack(streams.RESULTS, GROUP, entry_id)
                continue
            try:
                result = streams.decode_result(fields)
            except (KeyError, ValueError) as exc:
                log.error("grader: dropping malformed results entry %r: %s", entry_id, exc)
            else:
                if result["status"] in ("final", "cancelled"):
                    await settlement.grade_event(self.pool, self.redis, result["event"], result["status"],
                                                 result["home"], result["away"])
            await self.redis.xack(streams.RESULTS, GROUP, entry_id)
            self.graded += 1


def _entries(resp: Any) -> list[tuple[Any, dict[Any, Any]]]:
    out: list[tuple[Any, dict[Any, Any]]] = []
    for _stream, items in resp or []:
        out.extend((i, f) for i, f in items)
    return out
