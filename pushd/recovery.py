"""Subscribing with recovery: replay from the client's offset, or a snapshot, then live with no gap.

The subscriber is put in the hub's pending state *before* Redis is read, so every entry is either
in what we read or kept by the hub for it; kept frames the read already covered are dropped. A
``since`` is replayed when its epoch is the sport's current one and its offset is still in the
stream (or is the snapshot's own ``_offset``) and at most ``replay_limit`` entries follow it;
otherwise the subscriber gets a snapshot of ``snap:{sport}`` consistent with its ``_offset``.

Single flight: identical reads (same topic, same ``since``) that arrive before the first one is sent
to Redis share its one Redis call and its frames, which are encoded once. Joining only before the
call is sent keeps the rule above: the read still happens after every joiner became pending.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import orjson
import redis.exceptions as rexc

from pushd import metrics
from pushd import protocol as p
from pushd.hub import Conn, Hub, Key
from pushd.reader import REDIS_DOWN, Reader
from shared import streams
from shared.redis import Redis
from shared.streams import text

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Recovered:
    """What a recovery read produced: frames to send first and the offset they cover up to."""

    recovered: bool
    epoch: str
    covered: Key
    frames: tuple[bytes, ...]



class _Flight:
    __slots__ = ("future", "sent")

    def __init__(self) -> None:
        self.future: asyncio.Future[Recovered] = asyncio.get_running_loop().create_future()
        self.sent = False


class Recovery:
    """Subscribes sockets to sport and event topics with replay or snapshot."""

    def __init__(self, redis: Redis, hub: Hub, reader: Reader, replay_limit: int) -> None:
        self.redis = redis
        self.hub = hub
        self.reader = reader
        self.replay_limit = replay_limit
        self._flights: dict[tuple[str, str, str], _Flight] = {}
        reader.on_epoch_change = self.resync_sport

    async def sport_for(self, topic: str) -> str:
        """The sport whose stream carries ``topic``; ProtocolError ``unknown_topic`` when there is none."""
        kind, name = p.split_topic(topic)
        try:
            if kind == "sport" and await self.reader.ensure_sport(name):
                return name
            if kind == "event":
                sport = await self.reader.sport_of_event(name)
                if sport is not None and await self.reader.ensure_sport(sport):
                    return sport
        except REDIS_DOWN as exc:
            log.warning("topic lookup failed: %r", exc)
            raise p.ProtocolError("unavailable", "Redis is unreachable; retry shortly", topic=topic) from None
        raise p.ProtocolError("unknown_topic", f"No such topic {topic!r}", topic=topic)

    async def subscribe(self, conn: Conn, topic: str, sport: str, since: p.Since | None) -> Recovered | None:
        """Recover ``conn`` on ``topic`` and make it live; None if the socket went away meanwhile."""
        self.hub.begin_pending(conn, topic)
        try:
            result = await self._read(topic, sport, since)
        except REDIS_DOWN as exc:
            log.warning("recovery read failed: %r", exc)
            self.hub.unsubscribe(conn, topic)
            raise p.ProtocolError("unavailable", "Redis is unreachable; retry shortly", topic=topic) from None
        except BaseException:
            self.hub.unsubscribe(conn, topic)
            raise
        metrics.RESUMES.labels("replayed" if result.recovered else "snapshot").inc()
        if not self.hub.finish_pending(conn, topic, result.covered, result.frames, self._reader_at(sport)):
            return None
        return result

    def _reader_at(self, sport: str | None) -> Key:
        stream = streams.NOTIFY if sport is None else streams.odds_stream(sport)
        return p.offset_key(self.reader.offsets.get(stream, "0-0"))

    async def resume_user(self, conn: Conn, topic: str, since: p.Since) -> Recovered | None:
        """Replay the private events of ``conn``'s user after ``since`` (no snapshot exists for them)."""
        self.hub.begin_pending(conn, topic)
        try:
            entries: Any = await self.redis.xrange(streams.NOTIFY, min=since.offset, max="+",
                                              count=self.replay_limit + 2)
        except REDIS_DOWN:
            entries = None
        in_stream = bool(entries) and text(entries[0][0]) == since.offset
        if entries is None or not in_stream or len(entries) - 1 > self.replay_limit:
            # Not recoverable (trimmed, unknown, too far behind or Redis down): go live; the client
            # refetches what it needs over REST.
            self.hub.finish_pending(conn, topic, p.offset_key(since.offset), (), self._reader_at(None))
            metrics.RESUMES.labels("lost").inc()
            return Recovered(False, "", p.offset_key(since.offset), ())
        frames: list[bytes] = []
        user = str(conn.user_id).encode()
        covered = p.offset_key(since.offset)
        for entry_id, fields in entries[1:]:
            covered = p.offset_key(text(entry_id))
            if fields.get(b"user") == user:
                frames.append(p.user_frame(conn.user_id, text(entry_id), text(fields.get(b"kind", b"")),
                                           fields.get(b"data", b"{}")))
        metrics.RESUMES.labels("replayed").inc()
        if not self.hub.finish_pending(conn, topic, covered, frames, self._reader_at(None)):
            return None
        return Recovered(True, "", covered, tuple(frames))

    async def resync_sport(self, sport: str) -> None:
        """After an epoch change: move every subscriber of the sport's topics to a fresh snapshot."""
        topics = [t for t in {*self.hub.live, *self.hub.pending, *self.hub.catchup}
                  if t == "sport:" + sport or (t.startswith("event:") and
                                               self.reader.event_sport.get(t[6:]) == sport)]
        for topic in topics:
            conns = [*self.hub.live.get(topic, ()), *self.hub.catchup.get(topic, ())]
            for conn in conns:
                self.hub.begin_pending(conn, topic)
            try:
                result = await self._read(topic, sport, None)
            except REDIS_DOWN:
                for conn in conns:
                    self.hub.kick(conn, p.CLOSE_INTERNAL, "resync failed: reconnect")
                continue
            for conn in conns:
                self.hub.finish_pending(conn, topic, result.covered, result.frames, self._reader_at(sport))

    # ---- single flight ----
    async def _read(self, topic: str, sport: str, since: p.Since | None) -> Recovered:
        fkey = (topic, since.epoch if since else "", since.offset if since else "")
        flight = self._flights.get(fkey)
        if flight is not None and not flight.sent:
            metrics.SINGLE_FLIGHT_MERGED.inc()
            return await asyncio.shield(flight.future)
        flight = _Flight()
        self._flights[fkey] = flight
        try:
            await asyncio.sleep(0)  # one loop turn: let identical requests of this burst join
            flight.sent = True
            result = await self._do_read(topic, sport, since)
            flight.future.set_result(result)
            return result
        except BaseException as exc:
            if not flight.future.done():
                flight.future.set_exception(exc if isinstance(exc, Exception) else rexc.ConnectionError("cancelled"))
                flight.future.exception()  # mark retrieved: joiners may be gone
            raise
        finally:
            if self._flights.get(fkey) is flight:
                del self._flights[fkey]

    async def _do_read(self, topic: str, sport: str, since: p.Since | None) -> Recovered:
        event = topic[6:] if topic.startswith("event:") else None
        if since is not None:
            replay = await self._replay(topic, sport, event, since)
            if replay is not None:
                return replay
        return await self._snapshot(topic, sport, event)

    async def _replay(self, topic: str, sport: str, event: str | None, since: p.Since) -> Recovered | None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hmget(streams.snap_key(sport), [streams.SNAP_EPOCH, streams.SNAP_OFFSET])
            pipe.xrange(streams.odds_stream(sport), min=since.offset, max="+", count=self.replay_limit + 2)
            (epoch_b, snap_offset_b), entries = await pipe.execute()
        epoch = text(epoch_b or b"")
        if since.epoch != epoch:
            return None
        in_stream = bool(entries) and text(entries[0][0]) == since.offset
        if not in_stream and since.offset != text(snap_offset_b or b""):
            return None  # trimmed away, or an offset this stream never had
        after = entries[1:] if in_stream else entries
        if len(after) > self.replay_limit:
            return None
        frames: list[bytes] = []
        covered = p.offset_key(since.offset)
        for entry_id, fields in after:
            offset = text(entry_id)
            covered = p.offset_key(offset)
            raw = fields.get(b"changes", b"[]")
            if event is None:
                frames.append(p.odds_frame(topic, offset, raw))
                continue
            mine = [c for c in orjson.loads(raw) if isinstance(c, dict) and c.get("event") == event]
            if mine:
                frames.append(p.odds_frame(topic, offset, orjson.dumps(mine)))
        return Recovered(True, epoch, covered, tuple(frames))

    async def _snapshot(self, topic: str, sport: str, event: str | None) -> Recovered:
        key = streams.snap_key(sport)
        if event is None:
            snap: Any = await self.redis.hgetall(key)
            events = [v for k, v in snap.items() if not k.startswith(b"_")]
            epoch_b, offset_b = snap.get(streams.SNAP_EPOCH.encode()), snap.get(streams.SNAP_OFFSET.encode())
        else:
            fetched: Any = await self.redis.hmget(key, [event, streams.SNAP_EPOCH, streams.SNAP_OFFSET])
            value, epoch_b, offset_b = fetched
            events = [value] if value is not None else []
        epoch, offset = text(epoch_b or b""), text(offset_b or b"0-0")
        if not epoch:
            # No life of this stream exists yet (Redis lost its data, ingest has not republished):
            # say so instead of presenting an empty board; the reader snapshots when the epoch appears.
            metrics.RECOVERING.inc()
            return Recovered(False, "", p.offset_key(offset), (p.recovering_frame(topic),))
        frame = p.snapshot_frame(topic, epoch, offset, events)
        return Recovered(False, epoch, p.offset_key(offset), (frame,))
