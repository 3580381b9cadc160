"""Running a service process: uvloop, signal handling, bounded shutdown."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

import uvloop
from aiohttp import web

log = logging.getLogger(__name__)


def serve(app: web.Application, host: str, port: int, shutdown_timeout: float, *, reuse_port: bool = False) -> None:
    """Run an aiohttp app on uvloop; SIGTERM and SIGINT shut it down within ``shutdown_timeout``.

    ``reuse_port`` sets SO_REUSEPORT: several processes then listen on one port and the kernel
    spreads the connections among them (Python runs one core per process)."""
    log.info("listening on http://%s:%s", host, port)
    web.run_app(
        app,
        host=host,
        port=port,
        shutdown_timeout=shutdown_timeout,
        reuse_port=reuse_port or None,
        access_log=None,
        print=None,
        loop=uvloop.new_event_loop(),
    )


def run_daemon(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run ``main(stop)`` on uvloop; SIGTERM/SIGINT set ``stop`` and the daemon winds down itself."""

    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    uvloop.run(runner())
