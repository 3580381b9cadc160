"""Publishes odds changes to Redis: per league, XADD to ``odds:{league}`` and the ``snap:{league}``
update (event states, ``_offset``, ``_epoch``) in one MULTI, with final scores on ``results``.

Stream ids are chosen here (``{ms}-{seq}``, strictly increasing) so that ``_offset`` can be set in
the same MULTI as the XADD. While Redis is down, batches wait in a bounded per-league queue and are
written in order once it is back; if the queue overflows, or Redis lost its data, the league is
*resynced*: a new epoch, a fresh stream and the full snapshot from ingest's memory, so a client
holding an offset of the old life always gets a snapshot instead of a wrong replay.

Redis losing its data is noticed without waiting for a league to change: ``verify`` (once per
tick) compares every league's ``_epoch`` with the one ingest wrote, so quiet leagues are resynced
too, each under a new epoch, within a tick or two of Redis coming back.
"""

from __future__ import annotations

import collections
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import redis.exceptions

from ingest.metrics import BUFFERED, CHANGES, DROPPED, PUBLISHED, RESULTS, SINK_ERRORS
from ingest.model import Snapshot
from shared import streams
from shared.redis import Redis
from shared.streams import parse_id, text

log = logging.getLogger(__name__)
RESULTS_MAXLEN = 100_000


@dataclass(slots=True)
class Batch:
    """One tick's output for one league: changes, the new state of each touched event (None:
    removed) and the results to announce."""

    league: str
    changes: list[dict[str, Any]]
    updates: dict[str, bytes | None]
    results: list[dict[str, bytes]] = field(default_factory=list)


def make_batch(league: str, changes: list[dict[str, Any]], state: Snapshot,
               results: list[dict[str, bytes]] | None = None) -> Batch:
    """A batch whose snapshot updates are the current states of the events ``changes`` touch."""
    touched = {c["event"] for c in changes}
    updates = {eid: (orjson.dumps(state[eid]) if eid in state else None) for eid in touched}
    return Batch(league, changes, updates, results or [])


class Publisher:
    """Writes batches in order; never raises on a Redis failure (it buffers and retries)."""

    def __init__(self, redis: Redis, full_state: Callable[[str], Snapshot], *, maxlen: int = 10_000,
                 buffer_max: int = 1000, clock: Callable[[], float] = time.time) -> None:
        self.redis = redis
        self.full_state = full_state
        self.maxlen = maxlen
        self.buffer_max = buffer_max
        self.clock = clock
        self.pending: dict[str, collections.deque[Batch]] = {}
        self.orphan_results: list[dict[str, bytes]] = []  # results of dropped batches: never lost
        self.last_id: dict[str, tuple[int, int]] = {}
        self.epoch: dict[str, str] = {}
        self.resync_needed: set[str] = set()
        self.down = False

    # -- startup ----------------------------------------------------------------------------------

    async def load(self, league: str) -> Snapshot:
        """The league's snapshot as Redis holds it (to continue after a restart); empty if none."""
        try:
            raw = await self.redis.hgetall(streams.snap_key(league))
            top = await self.redis.xrevrange(streams.odds_stream(league), count=1)
        except (redis.exceptions.RedisError, OSError) as exc:
            log.warning("redis unavailable while loading %s (%s); it will be resynced", league, exc)
            self.resync_needed.add(league)
            return {}
        fields: dict[str, Any] = {text(k): v for k, v in raw.items()}
        epoch = fields.pop(streams.SNAP_EPOCH, None)
        offset = fields.pop(streams.SNAP_OFFSET, None)
        if not fields and epoch is None:
            return {}  # a league never published: the first publish creates it
        if epoch is None or offset is None or not top or top[0][0] != offset:
            log.warning("snapshot of %s is inconsistent with its stream; resyncing", league)
            self.resync_needed.add(league)
            return {k: orjson.loads(v) for k, v in fields.items()}
        self.epoch[league] = epoch.decode()
        self.last_id[league] = parse_id(offset)
        return {k: orjson.loads(v) for k, v in fields.items()}

    async def verify(self) -> None:
        """Mark for resync every league whose ``_epoch`` in Redis is not the one ingest wrote.

        A restarted Redis without persistence (or a failover that lost the tail) comes back empty;
        the next flush then republishes each league's full snapshot from ingest's memory. A Redis
        failure here only marks Redis down: the tick's flush retries."""
        leagues = [lg for lg in self.epoch if lg not in self.resync_needed]
        if not leagues:
            return
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for lg in leagues:
                    pipe.hget(streams.snap_key(lg), streams.SNAP_EPOCH)
                current = await pipe.execute()
        except (redis.exceptions.RedisError, OSError) as exc:
            if not self.down:
                log.warning("redis check failed (%s); buffering", exc)
            self.down = True
            return
        lost = [lg for lg, ep in zip(leagues, current, strict=True)
                if (ep.decode() if isinstance(ep, bytes) else ep) != self.epoch[lg]]
        if lost:
            log.warning("redis lost the snapshot of %d league(s); resyncing them from memory", len(lost))
            self.resync_needed.update(lost)

    # -- publishing -------------------------------------------------------------------------------

    def _next_id(self, league: str) -> str:
        now = int(self.clock() * 1000)
        last_ms, last_seq = self.last_id.get(league, (0, 0))
        if now > last_ms:
            ms, seq = now, 0
        else:
            ms, seq = last_ms, last_seq + 1
        self.last_id[league] = (ms, seq)
        return f"{ms}-{seq}"

    def buffered(self) -> int:
        """Batches waiting for Redis, over every league."""
        return sum(len(q) for q in self.pending.values())

    async def publish(self, batch: Batch) -> None:
        """Queue ``batch`` behind the league's earlier ones and try to write them all."""
        queue = self.pending.setdefault(batch.league, collections.deque())
        queue.append(batch)
        if len(queue) > self.buffer_max:
            dropped = queue.popleft()
            self.orphan_results.extend(dropped.results)
            self.resync_needed.add(batch.league)
            DROPPED.labels("redis").inc()
        if not self.down:
            # While Redis is down, only the once-per-tick flush() retries: a server that times
            # out instead of refusing would otherwise cost a timeout per league.
            await self.flush(batch.league)

    async def flush(self, league: str | None = None) -> bool:
        """Write what is queued (one league or all); False if Redis failed (kept for later)."""
        leagues = [league] if league else [lg for lg, q in self.pending.items() if q] + sorted(
            self.resync_needed - {lg for lg, q in self.pending.items() if q})
        try:
            for lg in leagues:
                await self._flush_league(lg)
            if self.orphan_results:
                await self._write_results(self.orphan_results)
                self.orphan_results = []
        except (redis.exceptions.RedisError, OSError) as exc:
            SINK_ERRORS.labels("redis").inc()
            if not self.down:
                log.warning("redis write failed (%s); buffering", exc)
            self.down = True
            return False
        finally:
            BUFFERED.labels("redis").set(self.buffered())
        if self.down:
            log.info("redis writes caught up")
        self.down = False
        return True

    async def _flush_league(self, league: str) -> None:
        queue = self.pending.setdefault(league, collections.deque())
        if league in self.resync_needed:
            # The full state supersedes every queued delta; keep their results.
            for b in queue:
                self.orphan_results.extend(b.results)
            queue.clear()
            await self.resync(league)
            return
        while queue:
            batch = queue[0]
            ok = await self._write(batch)
            queue.popleft()
            if not ok:
                await self.resync(league)
                queue.clear()
                return

    async def _write(self, batch: Batch) -> bool:
        """The MULTI of one batch; False when Redis lost the league's data (a resync follows)."""
        lg = batch.league
        stream, snap = streams.odds_stream(lg), streams.snap_key(lg)
        new_epoch = secrets.token_hex(4)
        entry_id = self._next_id(lg)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hsetnx(snap, streams.SNAP_EPOCH, new_epoch)
        entry: dict[Any, Any] = streams.encode_odds(batch.changes)
        pipe.xadd(stream, entry, id=entry_id, maxlen=self.maxlen, approximate=True)
        sets = {eid: v for eid, v in batch.updates.items() if v is not None}
        gone = [eid for eid, v in batch.updates.items() if v is None]
        if sets:
            pipe.hset(snap, mapping=sets)  # type: ignore[arg-type]
        if gone:
            pipe.hdel(snap, *gone)
        pipe.hset(snap, streams.SNAP_OFFSET, entry_id)
        for result in batch.results:
            pipe.xadd(streams.RESULTS, result, maxlen=RESULTS_MAXLEN, approximate=True)  # type: ignore[arg-type]
        replies = await pipe.execute(raise_on_error=False)
        self._count(batch)
        created, xadd = replies[0], replies[1]
        if isinstance(xadd, Exception):
            log.warning("XADD to %s failed (%s); resyncing", stream, xadd)
            return False
        if created and lg in self.epoch:
            log.warning("snapshot of %s vanished (Redis lost data); resyncing", lg)
            return False
        if created:
            self.epoch[lg] = new_epoch
            log.info("created stream %s (epoch %s)", stream, new_epoch)
        return True

    def _count(self, batch: Batch) -> None:
        PUBLISHED.inc()
        prices = sum(1 for c in batch.changes if "kind" not in c)
        CHANGES.labels("price").inc(prices)
        CHANGES.labels("event").inc(len(batch.changes) - prices)
        for r in batch.results:
            RESULTS.labels(r["status"].decode()).inc()

    async def resync(self, league: str) -> None:
        """Start a new life of the league: new epoch, fresh stream, the full snapshot."""
        stream, snap = streams.odds_stream(league), streams.snap_key(league)
        state = self.full_state(league)
        epoch = secrets.token_hex(4)
        entry_id = self._next_id(league)
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(stream, snap)
        marker: dict[Any, Any] = streams.encode_odds([])
        pipe.xadd(stream, marker, id=entry_id, maxlen=self.maxlen, approximate=True)
        mapping: dict[str, bytes | str] = {eid: orjson.dumps(ev) for eid, ev in state.items()}
        mapping[streams.SNAP_EPOCH] = epoch
        mapping[streams.SNAP_OFFSET] = entry_id
        pipe.hset(snap, mapping=mapping)  # type: ignore[arg-type]
        await pipe.execute()
        self.epoch[league] = epoch
        self.resync_needed.discard(league)
        log.info("resynced %s: epoch %s, %d event(s)", league, epoch, len(state))

    async def _write_results(self, results: list[dict[str, bytes]]) -> None:
        pipe = self.redis.pipeline(transaction=True)
        for result in results:
            pipe.xadd(streams.RESULTS, result, maxlen=RESULTS_MAXLEN, approximate=True)  # type: ignore[arg-type]
        await pipe.execute()
