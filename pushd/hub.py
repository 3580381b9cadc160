"""Topics -> subscribers. Each frame is built once per topic and the same bytes go to every transport.

A subscriber is *live* (frames are written to its transport as they come) or *pending* (it is being
recovered: frames that arrive meanwhile are kept, by reference, and flushed after the replay or
snapshot, minus those the recovery already covered). When this node's reader is still behind what
the recovery covered (the client came from a node that was ahead), the subscriber waits in
*catch-up*: frames up to the covered offset are dropped, and the first one past it makes it live,
so a resume never repeats a frame. A subscriber whose unsent buffer passes
``max_buffer`` is closed with 4008 instead of being written to, so it never slows anyone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import Any

from pushd import metrics
from pushd import protocol as p

log = logging.getLogger(__name__)

Key = tuple[int, int]  # a stream id as a sortable pair


class Conn:
    """One authenticated socket. Small on purpose: no task, queue or buffer of its own."""

    __slots__ = ("transport", "user_id", "session", "topics", "closed", "win_start", "win_count", "win_subs",
                 "jti", "expiry", "slot", "pinged")

    def __init__(self, transport: asyncio.Transport, user_id: int = 0, session: str = "",
                 jti: str | None = None) -> None:
        self.transport = transport
        self.user_id = user_id
        self.session = session
        self.topics: set[str] = set()
        self.closed = False
        self.win_start = 0.0
        self.win_count = 0
        self.win_subs = 0  # sub frames in the current rate window (each may cost a snapshot)
        self.jti = jti  # the access token behind the socket (restapi may revoke it)
        self.expiry: asyncio.TimerHandle | None = None  # closes the socket when that token expires
        self.slot = 0  # its turn on the node's ping wheel (``pushd.front.ping_wheel``)
        self.pinged = False  # a ping went out and no pong came back yet


class Hub:
    """Subscribers by topic on one node, and the fan-out of frames to them."""

    def __init__(self, max_buffer: int, max_pending: int) -> None:
        self.max_buffer = max_buffer
        self.max_pending = max_pending
        self.live: dict[str, dict[Conn, None]] = {}
        self.pending: dict[str, dict[Conn, list[tuple[Key, bytes]]]] = {}
        self.catchup: dict[str, dict[Conn, Key]] = {}
        self.conns: set[Conn] = set()
        self._added = 0
        self._closing: set[Conn] = set()  # kicked sockets whose transport has not closed yet
        self._all_closed: asyncio.Event | None = None

    # ---- membership ----
    def add(self, conn: Conn) -> None:
        self._added += 1
        conn.slot = self._added % 16  # spreads sockets over the node's ping wheel
        self.conns.add(conn)
        metrics.CONNECTIONS.inc()

    def remove(self, conn: Conn) -> None:
        """Forget ``conn`` everywhere (idempotent)."""
        if conn.expiry is not None:
            conn.expiry.cancel()
            conn.expiry = None
        if conn in self.conns:
            self.conns.discard(conn)
            metrics.CONNECTIONS.dec()
        for topic in list(conn.topics):
            self.unsubscribe(conn, topic)

    def of_user(self, user_id: int) -> list[Conn]:
        """Every socket of ``user_id`` on this node (each is subscribed to its private topic)."""
        topic = f"user:{user_id}"
        return [*self.live.get(topic, ()), *self.pending.get(topic, ()), *self.catchup.get(topic, ())]

    def topics_of_kind(self, kind: str) -> list[str]:
        prefix = kind + ":"
        return [t for t in {*self.live, *self.pending, *self.catchup} if t.startswith(prefix)]

    def has_subscribers(self, topic: str) -> bool:
        return topic in self.live or topic in self.pending or topic in self.catchup

    def subscribe_live(self, conn: Conn, topic: str) -> None:
        if topic not in conn.topics:
            conn.topics.add(topic)
            metrics.SUBSCRIPTIONS.labels(topic.partition(":")[0]).inc()
        self.live.setdefault(topic, {})[conn] = None

    def begin_pending(self, conn: Conn, topic: str) -> None:
        """Start recovering ``conn`` on ``topic``: frames from now on are kept for it."""
        self._drop(self.live, conn, topic)
        self._drop(self.catchup, conn, topic)
        if topic not in conn.topics:
            conn.topics.add(topic)
            metrics.SUBSCRIPTIONS.labels(topic.partition(":")[0]).inc()
        self.pending.setdefault(topic, {})[conn] = []

    def finish_pending(self, conn: Conn, topic: str, covered: Key, frames: Iterable[bytes],
                       reader_at: Key) -> bool:
        """Write the recovery ``frames``, then the kept frames past ``covered``; go live. False if gone.

        ``reader_at`` is where this node's reader stands in the topic's stream: if it has not reached
        ``covered`` yet, the subscriber waits in catch-up instead of going live.
        """
        kept = self.pending.get(topic, {}).pop(conn, None)
        if topic in self.pending and not self.pending[topic]:
            del self.pending[topic]
        if kept is None or conn.closed:
            return False
        for f in frames:
            self.send(conn, f)
        last = covered
        for key, f in kept:
            if key > last:
                self.send(conn, f)
                last = key
        if conn.closed:
            return False
        if reader_at < last:
            self.catchup.setdefault(topic, {})[conn] = last
        else:
            self.live.setdefault(topic, {})[conn] = None
        return True

    def unsubscribe(self, conn: Conn, topic: str) -> None:
        if topic in conn.topics:
            conn.topics.discard(topic)
            metrics.SUBSCRIPTIONS.labels(topic.partition(":")[0]).dec()
        self._drop(self.live, conn, topic)
        self._drop(self.pending, conn, topic)
        self._drop(self.catchup, conn, topic)

    @staticmethod
    def _drop(table: dict[str, dict[Conn, Any]], conn: Conn, topic: str) -> None:
        subs = table.get(topic)
        if subs is not None and conn in subs:
            del subs[conn]
            if not subs:
                del table[topic]

    # ---- fan-out ----
    def publish(self, topic: str, key: Key, frame: bytes) -> int:
        """Write ``frame`` to every live subscriber of ``topic``; keep it for pending ones."""
        sent = 0
        slow: list[Conn] = []
        subs = self.live.get(topic)
        if subs:
            limit = self.max_buffer
            for conn in subs:
                t = conn.transport
                if t.get_write_buffer_size() > limit:
                    slow.append(conn)
                    continue
                try:
                    t.write(frame)
                except (RuntimeError, ConnectionError):  # the transport closed under us
                    slow.append(conn)
                    continue
                sent += 1
        behind = self.catchup.get(topic)
        if behind:
            for conn, floor in list(behind.items()):
                if key > floor:  # the reader passed what the recovery covered: live from here on
                    del behind[conn]
                    self.live.setdefault(topic, {})[conn] = None
                    self.send(conn, frame)
            if not behind:
                del self.catchup[topic]
        waiting = self.pending.get(topic)
        if waiting:
            for conn, kept in waiting.items():
                kept.append((key, frame))
                if len(kept) > self.max_pending:
                    slow.append(conn)
        for conn in slow:
            self.kick_slow(conn)
        if sent:
            metrics.FRAMES_OUT.inc(sent)
            metrics.BYTES_OUT.inc(sent * len(frame))
        return sent

    def send(self, conn: Conn, frame: bytes) -> None:
        """Write one frame to one socket (closing it 4008 when its unsent buffer is over the bound)."""
        if conn.closed:
            return
        t = conn.transport
        if t.get_write_buffer_size() > self.max_buffer:
            self.kick_slow(conn)
            return
        try:
            t.write(frame)
        except (RuntimeError, ConnectionError):
            self.kick(conn, p.CLOSE_INTERNAL, "transport closed")
            return
        metrics.FRAMES_OUT.inc()
        metrics.BYTES_OUT.inc(len(frame))

    def is_current(self, conn: Conn, topic: str) -> bool:
        """True when ``conn`` already receives ``topic`` live (or is catching up to it)."""
        return conn in self.live.get(topic, ()) or conn in self.catchup.get(topic, ())

    def kick_slow(self, conn: Conn) -> None:
        """Close a slow consumer 4008 and count it (in ``closes_total`` too, as every close)."""
        if conn.closed:
            return
        metrics.SLOW_CLOSES.inc()
        metrics.CLOSES.labels(str(p.CLOSE_SLOW)).inc()
        self.kick(conn, p.CLOSE_SLOW, "slow consumer: resume from your last offset")

    def kick(self, conn: Conn, code: int, reason: str, grace: float = 5.0) -> None:
        """Stop writing to ``conn`` and close it with ``code``; abort it if the close does not finish."""
        if conn.closed:
            return
        conn.closed = True
        self.remove(conn)
        t = conn.transport
        if t.is_closing():
            return
        # The client answers with its own close frame and the socket closes then (``pushd.front``); one
        # that does not (not reading, gone) is aborted after ``grace``.
        with contextlib.suppress(RuntimeError, ConnectionError):
            t.write(p.close_frame(code, reason))
        self._closing.add(conn)
        asyncio.get_running_loop().call_later(grace, _abort, t)

    def lost(self, conn: Conn) -> None:
        """``conn``'s transport closed: forget it (``wait_closed`` ends when no kicked socket is left)."""
        self.remove(conn)
        self._closing.discard(conn)
        if not self._closing and self._all_closed is not None:
            self._all_closed.set()

    async def wait_closed(self, timeout: float) -> None:
        """Wait (bounded) until every socket closed by ``kick`` has closed its transport."""
        if self._closing:
            self._all_closed = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._all_closed.wait(), timeout)
            self._all_closed = None


def _abort(transport: asyncio.Transport) -> None:
    if not transport.is_closing() or transport.get_write_buffer_size():
        transport.abort()
