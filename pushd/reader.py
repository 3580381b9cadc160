"""The node's one stream reader: XREAD BLOCK over every ``odds:{sport}`` stream and ``notify``.

It owns the node's read offsets (one per stream), so when Redis goes away it keeps them, retries
with backoff and continues from exactly where it stopped: the clients see no gap. It also knows
which sports exist, their epochs, and which sport each event belongs to (``event:{id}`` topics are
a filter of their sport's stream), learned from ``snap:*`` and kept current from the stream.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import redis.exceptions as rexc

from pushd import metrics
from pushd import protocol as p
from pushd.hub import Hub
from shared import streams
from shared.redis import Redis
from shared.streams import text

log = logging.getLogger(__name__)

REDIS_DOWN = (rexc.ConnectionError, rexc.TimeoutError, OSError)
EpochChanged = Callable[[str], Awaitable[None]]


BROADCAST_USER = 0  # a notify entry for user 0 goes to every socket

class Reader:
    """Reads every stream once for the node and hands each entry's frames to the hub."""

    def __init__(self, redis: Redis, hub: Hub, *, block_ms: int, count: int, rescan: float) -> None:
        self.redis = redis
        self.hub = hub
        self.block_ms = block_ms
        self.count = count
        self.rescan = rescan
        self.offsets: dict[str, str] = {}  # stream key -> last id handed to the hub
        self.epochs: dict[str, str] = {}  # sport -> epoch
        self.event_sport: dict[str, str] = {}  # event id -> sport
        self.connected = False
        self.on_epoch_change: EpochChanged | None = None
        self._index_refreshed = 0.0

    # ---- what exists ----
    async def start(self) -> None:
        """Learn the sports that exist now and start every stream at its current end."""
        self.offsets[streams.NOTIFY] = await self._last_id(streams.NOTIFY)
        await self.scan()
        self.connected = True
        metrics.READER_UP.set(1)

    async def _last_id(self, stream: str) -> str:
        try:
            info = await self.redis.xinfo_stream(stream)
        except rexc.ResponseError:  # no such stream yet: everything it will hold is new
            return "0-0"
        return text(info["last-generated-id"])

    async def scan(self) -> None:
        """Find sport streams and snapshots created since the last scan; check every known epoch."""
        found: set[str] = set()
        for pattern in ("odds:*", "snap:*"):
            async for key in self.redis.scan_iter(match=pattern, count=1000):
                found.add(text(key).partition(":")[2])
        for sport in found - set(self.epochs):
            await self.ensure_sport(sport)
        await self.check_epochs()

    async def ensure_sport(self, sport: str) -> bool:
        """Start reading ``sport`` if it exists (stream or snapshot); False when it does not."""
        if sport in self.epochs:
            return True
        stream = streams.odds_stream(sport)
        exists = await self.redis.exists(stream, streams.snap_key(sport))
        if not exists:
            return False
        last = await self._last_id(stream)
        epoch = text(await self.redis.hget(streams.snap_key(sport), streams.SNAP_EPOCH) or b"")
        events = await self.redis.hkeys(streams.snap_key(sport))
        if sport in self.epochs:  # another caller won the race while we awaited: keep its offset
            return True
        self.epochs[sport] = epoch
        self.offsets[stream] = last
        for ev in events:
            name = text(ev)
            if not name.startswith("_"):
                self.event_sport[name] = sport
        log.info("reading %s from %s (epoch %s)", stream, last, epoch or "-")
        return True

    async def sport_of_event(self, event: str) -> str | None:
        """The sport of ``event``, refreshing the index from the snapshots at most once a second."""
        sport = self.event_sport.get(event)
        if sport is None and time.monotonic() - self._index_refreshed > 1.0:
            self._index_refreshed = time.monotonic()
            await self.scan()
            for known in list(self.epochs):
                for ev in await self.redis.hkeys(streams.snap_key(known)):
                    name = text(ev)
                    if not name.startswith("_"):
                        self.event_sport.setdefault(name, known)
            sport = self.event_sport.get(event)
        return sport

    async def check_epochs(self) -> None:
        """Compare each sport's ``_epoch`` with the one we read under; resync the sports that changed.

        A sport whose stream now ends before our offset lost entries we already sent (a Sentinel
        failover promoted a replica that had not received them): resync it too, never skip or repeat.
        """
        sports = list(self.epochs)
        if not sports:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for sport in sports:
                pipe.hget(streams.snap_key(sport), streams.SNAP_EPOCH)
                pipe.xinfo_stream(streams.odds_stream(sport))
            replies = await pipe.execute(raise_on_error=False)
        for i, sport in enumerate(sports):
            epoch, info = text(replies[2 * i] or b""), replies[2 * i + 1]
            stream = streams.odds_stream(sport)
            end = text(info["last-generated-id"]) if isinstance(info, dict) else "0-0"
            mine = self.offsets.get(stream, "0-0")
            if epoch != self.epochs.get(sport):
                log.warning("epoch of %s changed (%s -> %s): resyncing subscribers", sport,
                            self.epochs.get(sport) or "-", epoch or "-")
            elif p.offset_key(mine) > p.offset_key(end):
                metrics.STREAM_BEHIND.inc()
                log.warning("stream of %s ends at %s, before our offset %s (entries lost in a failover): "
                            "resyncing subscribers", sport, end, mine)
            else:
                continue
            self.epochs[sport] = epoch
            self.offsets[stream] = end
            if self.on_epoch_change is not None:
                await self.on_epoch_change(sport)

    # ---- the loop ----
    async def run(self, stop: asyncio.Event) -> None:
        """Read until ``stop``; on a lost Redis keep the offsets, back off, then continue from them."""
        backoff = 0.05
        next_scan = time.monotonic() + self.rescan
        while not stop.is_set():
            try:
                if streams.NOTIFY not in self.offsets:  # Redis was down when the node started
                    await self.start()
                elif not self.connected:
                    await self.redis.ping()
                    await self.check_epochs()
                    self.connected = True
                    metrics.READER_UP.set(1)
                    log.info("stream reader reconnected; continuing from its own offsets")
                if time.monotonic() >= next_scan:
                    await self.scan()
                    next_scan = time.monotonic() + self.rescan
                # redis-py's type hints describe stream replies loosely; the client returns bytes (no decoding).
                offsets: Any = dict(self.offsets)
                resp: Any = await self.redis.xread(offsets, count=self.count, block=self.block_ms)
                backoff = 0.05
                reborn = False
                for key, entries in resp or ():
                    reborn = self.dispatch(text(key), entries) or reborn
                if reborn:  # a stream came back to life: snapshot its subscribers now, not at the next scan
                    await self.check_epochs()
            except REDIS_DOWN as exc:
                if self.connected:
                    log.warning("stream reader lost Redis (%s); retrying with backoff", type(exc).__name__)
                self.connected = False
                metrics.READER_UP.set(0)
                backoff = min(backoff * 2, 2.0)
                try:
                    await asyncio.wait_for(stop.wait(), backoff * (0.5 + random.random()))
                except TimeoutError:
                    pass

    def dispatch(self, stream: str, entries: list[tuple[Any, dict[bytes, bytes]]]) -> bool:
        """Turn entries of one stream into frames (once per topic) and publish them.

        True when the entries belong to a sport read without an epoch (its data was lost): they are
        not fanned out, and the caller checks the epochs so subscribers get the new life's snapshot."""
        if stream == streams.NOTIFY:
            for entry_id, fields in entries:
                self._notify(text(entry_id), fields)
                self.offsets[stream] = text(entry_id)
            return False
        sport = stream.partition(":")[2]
        if sport in self.epochs and not self.epochs[sport]:
            self.offsets[stream] = text(entries[-1][0]) if entries else self.offsets.get(stream, "0-0")
            return True
        topic = "sport:" + sport
        now = time.time()
        for entry_id, fields in entries:
            offset = text(entry_id)
            self.offsets[stream] = offset
            raw = fields.get(b"changes", b"[]")
            key = p.offset_key(offset)
            if self.hub.has_subscribers(topic):
                self.hub.publish(topic, key, p.odds_frame(topic, offset, raw))
            try:
                changes = orjson.loads(raw)
            except orjson.JSONDecodeError:
                log.error("entry %s of %s has malformed changes; skipped", offset, stream)
                continue
            self._events(sport, offset, key, changes)
            ts = fields.get(b"ts")
            if ts:
                metrics.READER_LAG.observe(max(0.0, now - int(ts) / 1000))
        return False

    def _events(self, sport: str, offset: str, key: tuple[int, int], changes: list[dict[str, Any]]) -> None:
        by_event: dict[str, list[dict[str, Any]]] = {}
        for ch in changes:
            ev = ch.get("event") if isinstance(ch, dict) else None
            if isinstance(ev, str):
                by_event.setdefault(ev, []).append(ch)
        for ev, evs in by_event.items():
            topic = "event:" + ev
            if self.hub.has_subscribers(topic):
                self.hub.publish(topic, key, p.odds_frame(topic, offset, orjson.dumps(evs)))
            if evs[-1].get("kind") == "removed":
                self.event_sport.pop(ev, None)
            else:
                self.event_sport[ev] = sport

    def _notify(self, offset: str, fields: dict[bytes, bytes]) -> None:
        try:
            user = int(fields[b"user"])
            kind = text(fields[b"kind"])
            data = fields.get(b"data", b"{}")
        except (KeyError, ValueError):
            log.error("notify entry %s is malformed; skipped", offset)
            return
        if user == BROADCAST_USER:  # for every socket on the node (kill switch changes)
            frame = p.broadcast_frame(offset, kind, data)
            for conn in list(self.hub.conns):
                self.hub.send(conn, frame)
            return
        topic = f"user:{user}"
        if not self.hub.has_subscribers(topic):
            return
        self.hub.publish(topic, p.offset_key(offset), p.user_frame(user, offset, kind, data))
        if kind == "account.status":
            try:
                status = orjson.loads(data).get("status")
            except (orjson.JSONDecodeError, AttributeError):
                status = None
            if status == "inactive":
                for conn in self.hub.of_user(user):
                    metrics.CLOSES.labels(str(p.CLOSE_FORBIDDEN)).inc()
                    self.hub.kick(conn, p.CLOSE_FORBIDDEN, "account inactive")
        elif kind == "session.revoked":
            try:
                jtis = set(orjson.loads(data).get("jtis") or ())
            except (orjson.JSONDecodeError, AttributeError, TypeError):
                jtis = set()
            for conn in self.hub.of_user(user):
                if conn.jti is not None and conn.jti in jtis:
                    metrics.CLOSES.labels(str(p.CLOSE_UNAUTHORIZED)).inc()
                    self.hub.kick(conn, p.CLOSE_UNAUTHORIZED, "token_revoked")
