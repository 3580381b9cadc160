"""pushd's front door: one small asyncio Protocol per socket, and aiohttp for every other request.

Each connection starts as a ``PushConn``. A valid ``GET /ws`` upgrade (node not draining) is
answered here with 101 and the same object then carries the WebSocket: frames in through
``pushd.wsproto``, text frames to ``pushd.session``, fan-out written by the hub straight to the
transport. No task, timer or buffer is held for an idle socket (heartbeats are the node's one ping
wheel; a task exists only while a ``hello``, ``sub`` or ``refresh`` awaits Redis). Any other
request (health, metrics, a bad or refused upgrade) is handed, bytes and all, to aiohttp's own
connection handler, so those keep the shared middlewares and JSON errors.

Serve the app with ``PushRunner`` (``python -m pushd`` does); under a plain aiohttp runner ``/ws``
answers 400.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any, cast

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from pushd import metrics, session
from pushd import protocol as p
from pushd import wsproto as w
from pushd.hub import Conn
from pushd.keys import NODE
from pushd.node import Node
from shared.connguard import HEADER_TIMEOUT, TOO_MANY, ConnGuard, ConnLimits, GuardedRunner, GuardedServer

log = logging.getLogger(__name__)

HEAD, HELLO, OPEN, GONE = 0, 1, 2, 3  # PushConn.state


class PushConn(Conn, asyncio.Protocol):
    """One connection: the request head until it upgrades, then the socket's whole life."""

    __slots__ = ("front", "node", "buf", "state", "ip", "timer", "busy", "inbox", "frag")

    def __init__(self, front: FrontServer) -> None:
        Conn.__init__(self, cast(asyncio.Transport, None))
        self.front = front
        self.node: Node | None = None
        self.buf = b""  # unparsed bytes (the request head, or a partial frame)
        self.state = HEAD
        self.ip: str | None = None  # counted in the per-address cap while set
        self.timer: asyncio.TimerHandle | None = None  # header timeout, then hello timeout
        self.busy = False  # a hello/sub/refresh is awaiting: later frames wait in ``inbox``
        self.inbox: deque[tuple[int, bytes]] | None = None
        self.frag: tuple[int, bytes] | None = None  # a fragmented message being put together

    # ---- asyncio.Protocol ----
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses: no isinstance check here.
        self.transport = t = cast(asyncio.Transport, transport)
        peer = t.get_extra_info("peername")
        ip = str(peer[0]) if isinstance(peer, tuple) and peer else ""
        if not self.front.guard.admit(ip):
            self.state = GONE
            t.write(TOO_MANY)
            t.close()
            return
        self.ip = ip
        # The same bound aiohttp's handler applies to a request head (``shared.connguard``).
        self.timer = asyncio.get_running_loop().call_later(self.front.guard.limits.header_timeout * 0.95,
                                                           self._head_timeout)

    def data_received(self, data: bytes) -> None:
        if self.state == HEAD:
            self._head(data)
        elif self.state != GONE:
            self._feed(data)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._cancel_timer()
        self.state = GONE
        self.closed = True
        if self.ip is not None:
            self.front.guard.release(self.ip)
            self.ip = None
        self.front.sockets.discard(self)
        if self.node is not None:
            self.node.hub.lost(self)
        self.inbox = None
        self.buf = b""

    # ---- the request head ----
    def _head(self, data: bytes) -> None:
        buf = self.buf + data
        end = buf.find(b"\r\n\r\n")
        if end < 0 or end > w.MAX_HEAD:  # a head over the bound goes to aiohttp, whole read or not
            if end < 0 and len(buf) <= w.MAX_HEAD:
                self.buf = buf
            else:
                self._hand_over(buf)
            return
        method, target, headers = w.parse_head(buf[:end])
        key = w.upgrade_key(method, target, headers)
        node = self.front.app.get(NODE)
        if key is None or node is None or node.draining:
            self._hand_over(buf)
            return
        self._cancel_timer()
        self.buf = b""
        self.node = node
        self.state = HELLO
        self.front.sockets.add(self)
        self.transport.write(w.accept_response(key))
        self.timer = asyncio.get_running_loop().call_later(node.settings.hello_timeout, self._hello_timeout)
        rest = buf[end + 4:]
        if rest:
            self._feed(rest)

    def _hand_over(self, buf: bytes) -> None:
        """Give the connection (and what it sent so far) to aiohttp's handler."""
        self._cancel_timer()
        self.state = GONE
        if self.ip is not None:  # the handler counts it again
            self.front.guard.release(self.ip)
            self.ip = None
        handler = self.front.handler()
        t = self.transport
        t.set_protocol(handler)
        handler.connection_made(t)
        handler.data_received(buf)

    def _head_timeout(self) -> None:
        self.timer = None
        self.state = GONE
        self.transport.write(HEADER_TIMEOUT)
        self.transport.close()

    def _hello_timeout(self) -> None:
        self.timer = None
        if self.node is not None and not self.closed:
            session.hello_timeout(self.node, self)

    def _cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    # ---- frames ----
    def _feed(self, data: bytes) -> None:
        node = self.node
        assert node is not None
        buf = self.buf + data if self.buf else data
        try:
            frames, rest = w.parse_frames(buf, node.settings.max_frame_bytes)
        except w.WSError as exc:
            self.buf = b""
            self._fail(exc.code, exc.reason)
            return
        self.buf = rest
        for opcode, fin, payload in frames:
            if self.state == GONE:
                return
            self._frame(opcode, fin, payload)

    def _frame(self, opcode: int, fin: bool, payload: bytes) -> None:
        if opcode == w.OP_CLOSE:
            if not self.closed:  # the client closes: answer with its code, then close
                code = w.close_code(payload)
                self.closed = True
                assert self.node is not None
                self.node.hub.remove(self)
                self.transport.write(p.close_frame(w.close_answer(code)))
            self.transport.close()  # our close was answered, or we answered theirs
            return
        if self.closed:  # closing: only its close frame matters now
            return
        if opcode == w.OP_PING:
            # A ping costs a pong: it counts in the frame window and its pong goes through the hub's
            # write-buffer cap, so a client that pings and never reads is closed, not fed memory.
            assert self.node is not None
            if session.over_rate(self.node, self):
                self._fail(p.CLOSE_RATE_LIMITED, "rate_limited")
                return
            self.node.hub.send(self, p.ws_frame(payload, w.OP_PONG))
            return
        if opcode == w.OP_PONG:
            self.pinged = False
            return
        if opcode == w.OP_CONT:
            if self.frag is None:
                self._fail(1002, "continuation frame without a first frame")
                return
            first, parts = self.frag
            parts += payload
            assert self.node is not None
            if len(parts) > self.node.settings.max_frame_bytes:
                self._fail(p.CLOSE_TOO_BIG, "message too big")
                return
            if not fin:
                self.frag = (first, parts)
                return
            self.frag = None
            opcode, payload = first, parts
        elif self.frag is not None:
            self._fail(1002, "a new message inside a fragmented one")
            return
        elif not fin:
            self.frag = (opcode, payload)
            return
        self._message(opcode, payload)

    def _message(self, opcode: int, payload: bytes) -> None:
        if self.busy:
            inbox = self.inbox
            if inbox is None:
                self.inbox = inbox = deque()
            inbox.append((opcode, payload))
            assert self.node is not None
            if len(inbox) > self.node.settings.max_client_frames:
                self._fail(p.CLOSE_RATE_LIMITED, "rate_limited")
            return
        self._dispatch(opcode, payload)

    def _dispatch(self, opcode: int, payload: bytes) -> None:
        node = self.node
        assert node is not None
        if self.state == HELLO:
            self._cancel_timer()
            if opcode != w.OP_TEXT:
                session.hello_binary(node, self)
                return
            self.state = OPEN  # frames behind the hello wait for it in the inbox
            self._run(session.hello(node, self, payload))
        elif opcode == w.OP_TEXT:
            work = session.on_text(node, self, payload)
            if work is not None:
                self._run(work)
        else:
            session.on_binary(node, self)

    def _run(self, work: Any) -> None:
        self.busy = True
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self.front.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.front.tasks.discard(task)
        self.busy = False
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("socket %s: %s failed", self.session, task.get_coro(), exc_info=exc)
            self._fail(p.CLOSE_INTERNAL, "internal error")
        inbox = self.inbox
        while inbox and not self.busy and not self.closed:
            self._dispatch(*inbox.popleft())
        if not inbox:
            self.inbox = None

    def _fail(self, code: int, reason: str) -> None:
        """Close the socket with ``code`` (a protocol violation, a flood, an internal error)."""
        metrics.CLOSES.labels(str(code)).inc()
        if self.node is not None:
            self.node.hub.kick(self, code, reason)


class FrontServer(GuardedServer):
    """The server whose connections start as ``PushConn``; the rest go to ``GuardedHandler``s."""

    def __init__(self, inner: web.Server, guard: ConnGuard, app: web.Application) -> None:
        super().__init__(inner, guard)
        self.app = app
        self.sockets: set[PushConn] = set()  # upgraded, until their transport closes
        self.tasks: set[asyncio.Task[None]] = set()

    def __call__(self) -> PushConn:  # type: ignore[override]  # a protocol factory, as aiohttp's
        return PushConn(self)

    def handler(self) -> RequestHandler:
        """aiohttp's handler for a connection that is not a WebSocket upgrade."""
        return super().__call__()

    def abort_all(self) -> None:
        """Drop every socket still open (after the drain had its time) and its pending work."""
        for conn in list(self.sockets):
            conn.transport.abort()
        for task in list(self.tasks):
            task.cancel()


class PushRunner(GuardedRunner):
    """``GuardedRunner`` serving ``/ws`` through ``PushConn``."""

    def __init__(self, app: web.Application, limits: ConnLimits, **kwargs: Any) -> None:
        super().__init__(app, limits, **kwargs)

    async def _make_server(self) -> web.Server:
        return FrontServer(await web.AppRunner._make_server(self), self.guard, self.app)

    async def shutdown(self) -> None:
        await super().shutdown()  # on_shutdown: the node drains its sockets
        if isinstance(self.server, FrontServer):
            self.server.abort_all()
