"""ingest's top level: resources, the side health port, and its loops under one TaskGroup."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from ingest.config import IngestSettings
from shared.daemon import DaemonContext, daemon_resources

log = logging.getLogger(__name__)


class Loop(Protocol):
    """A long-running ingest task (poller, archiver)."""

    name: str

    async def run(self, stop: asyncio.Event) -> None: ...


LoopFactory = Callable[[DaemonContext, IngestSettings], Loop]


async def run(settings: IngestSettings, stop: asyncio.Event, loops: list[LoopFactory] | None = None,
              on_ready: Callable[[DaemonContext], None] | None = None) -> None:
    """Run ingest until ``stop`` is set."""
    async with daemon_resources("ingest", settings, settings.host, settings.port) as ctx:
        tasks = [factory(ctx, settings) for factory in (loops or [])]
        log.info("ingest running %d loop(s)", len(tasks))
        if on_ready is not None:
            on_ready(ctx)
        async with asyncio.TaskGroup() as tg:
            for loop in tasks:
                tg.create_task(loop.run(stop), name=loop.name)
            await stop.wait()
        log.info("ingest stopped")
