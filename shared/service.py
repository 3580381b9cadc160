"""Running a service process: uvloop, signal handling, bounded shutdown."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

import uvloop
from aiohttp import web

from shared.connguard import ConnLimits, GuardedRunner

log = logging.getLogger(__name__)


async def start_server(app: web.Application, host: str, port: int, limits: ConnLimits, *,
                       shutdown_timeout: float = 8.0, reuse_port: bool = False, backlog: int = 128,
                       runner_cls: type[GuardedRunner] = GuardedRunner) -> GuardedRunner:
    """Start serving ``app`` with the connection ``limits``; the caller awaits ``runner.cleanup()``.

    ``runner_cls`` may serve some connections its own way (pushd's sockets: ``pushd.front``)."""
    runner = runner_cls(app, limits, shutdown_timeout=shutdown_timeout, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_port=reuse_port or None, backlog=backlog)
    await site.start()
    return runner


def serve(app: web.Application, host: str, port: int, shutdown_timeout: float, *, reuse_port: bool = False,
          limits: ConnLimits | None = None, backlog: int = 128,
          runner_cls: type[GuardedRunner] = GuardedRunner) -> None:
    """Run an aiohttp app on uvloop; SIGTERM and SIGINT shut it down within ``shutdown_timeout``.

    ``reuse_port`` sets SO_REUSEPORT: several processes then listen on one port and the kernel
    spreads the connections among them (Python runs one core per process). ``limits`` bound slow
    and greedy clients (``shared.connguard``)."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        runner = await start_server(app, host, port, limits or ConnLimits(), shutdown_timeout=shutdown_timeout,
                                    reuse_port=reuse_port, backlog=backlog, runner_cls=runner_cls)
        log.info("listening on http://%s:%s", host, port)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    uvloop.run(main())


def run_daemon(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run ``main(stop)`` on uvloop; SIGTERM/SIGINT set ``stop`` and the daemon winds down itself."""

    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    uvloop.run(runner())
