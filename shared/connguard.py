"""Slow and greedy clients (issue 13): header and body read timeouts and a per-address connection cap.

aiohttp waits for a request's headers as long as its keep-alive timeout (75 s under ``run_app``) and
accepts any number of connections from one address, so 200 sockets trickling headers held a
service for 75 s. Here, per connection:

- the header block of the first request must arrive within ``header_timeout`` of the connection
  opening, or the client gets ``408`` and the connection closes; later requests on a kept-alive
  connection get the same bound through aiohttp's keep-alive timeout (closed without an answer);
- a request body must arrive within ``body_timeout`` (``body_timeout_middleware``: ``408``);
- an address may hold at most ``max_per_ip`` connections (``429`` and close beyond that); trusted
  proxies are exempt, since every client behind them shares their address: the proxy enforces the
  same cap per client (see ``deploy/``).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, cast

import orjson
from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from shared.errors import RequestTimeout
from shared.web import Handler, error_response


@dataclass(frozen=True, slots=True)
class ConnLimits:
    """The limits of one listening service (seconds; 0 connections means no cap)."""

    header_timeout: float = 10.0
    body_timeout: float = 10.0
    max_per_ip: int = 0
    exempt: tuple[str, ...] = ()


def _raw_error(status: int, reason: str, code: str, message: str) -> bytes:
    """A complete HTTP/1.1 error answer that closes the connection (written before any request exists)."""
    body = orjson.dumps({"error": code, "message": message, "details": {}})
    head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\nServer: WagerBabe\r\n\r\n")
    return head.encode() + body


HEADER_TIMEOUT = _raw_error(408, "Request Timeout", "request_timeout",
                            "The request headers took too long to arrive; send them at once")
TOO_MANY = _raw_error(429, "Too Many Requests", "too_many_connections",
                      "Too many connections from your address; close some and retry")


@dataclass(slots=True)
class ConnGuard:
    """Counts open connections per address for one server."""

    limits: ConnLimits
    open: Counter[str] = field(default_factory=Counter)

    def admit(self, ip: str) -> bool:
        """Count a new connection from ``ip``; False (not counted) when the address is at its cap."""
        cap = self.limits.max_per_ip
        if cap and ip not in self.limits.exempt and self.open[ip] >= cap:
            return False
        self.open[ip] += 1
        return True

    def release(self, ip: str) -> None:
        """Forget one closed connection of ``ip``."""
        self.open[ip] -= 1
        if self.open[ip] <= 0:
            del self.open[ip]


class GuardedHandler(RequestHandler):
    """aiohttp's connection protocol plus the per-address cap and the first request's header timeout."""

    __slots__ = ("_guard", "_ip", "_head_timer", "_tail")

    def __init__(self, manager: Any, guard: ConnGuard, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._guard = guard
        self._ip: str | None = None
        self._head_timer: asyncio.TimerHandle | None = None
        self._tail = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        peer = transport.get_extra_info("peername")
        ip = str(peer[0]) if isinstance(peer, tuple) and peer else ""
        if not self._guard.admit(ip):
            # uvloop's transports are not asyncio.Transport subclasses: no isinstance check here.
            cast(asyncio.WriteTransport, transport).write(TOO_MANY)
            self.force_close()  # closes after the answer is flushed
            return
        self._ip = ip
        # Strictly before aiohttp's keep-alive timer (the same timeout, armed in super().connection_made),
        # which would close the connection without an answer.
        self._head_timer = asyncio.get_running_loop().call_later(self._guard.limits.header_timeout * 0.95,
                                                                 self._too_slow)

    def data_received(self, data: bytes) -> None:
        if self._head_timer is not None:
            seen = self._tail + data
            if b"\r\n\r\n" in seen:  # the first header block is complete
                self._head_timer.cancel()
                self._head_timer = None
                self._tail = b""
            else:
                self._tail = seen[-3:]
        super().data_received(data)

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        if self._ip is not None:
            self._guard.release(self._ip)
            self._ip = None
        super().connection_lost(exc)

    def _too_slow(self) -> None:
        self._head_timer = None
        if self.transport is not None:
            self.transport.write(HEADER_TIMEOUT)
            self.force_close()


class GuardedServer(web.Server):
    """aiohttp's low-level server whose connections are ``GuardedHandler``s sharing one ``ConnGuard``."""

    def __init__(self, inner: web.Server, guard: ConnGuard) -> None:
        # Same handler, request factory and handler arguments as the server aiohttp built for the app.
        super().__init__(inner.request_handler, request_factory=inner.request_factory,
                         handler_cancellation=inner.handler_cancellation, loop=inner._loop, **inner._kwargs)
        self.guard = guard

    def __call__(self) -> RequestHandler:
        return GuardedHandler(self, self.guard, loop=self._loop, **self._kwargs)


class GuardedRunner(web.AppRunner):
    """An ``AppRunner`` whose server applies ``limits`` to every connection (the header timeout is
    also aiohttp's keep-alive timeout, which bounds the headers of later requests on a connection)."""

    def __init__(self, app: web.Application, limits: ConnLimits, **kwargs: Any) -> None:
        kwargs.setdefault("keepalive_timeout", limits.header_timeout)
        super().__init__(app, **kwargs)
        self.guard = ConnGuard(limits)

    async def _make_server(self) -> web.Server:
        return GuardedServer(await super()._make_server(), self.guard)


def body_timeout_middleware(timeout: float) -> Any:
    """A middleware that reads a request's whole body within ``timeout`` seconds, else answers 408 and
    closes the connection. The body is cached by aiohttp, so handlers read it again for free."""

    @web.middleware
    async def body_timeout(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.body_exists and request.can_read_body:
            try:
                async with asyncio.timeout(timeout):
                    await request.read()
            except TimeoutError:
                resp = error_response(RequestTimeout(
                    f"The request body took longer than {timeout:g} s to arrive; send it at once"))
                resp.force_close()
                return resp
        return await handler(request)

    return body_timeout
