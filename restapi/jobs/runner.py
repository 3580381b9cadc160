"""Runs every registered job loop under one TaskGroup until ``stop`` is set.

A job is a factory ``(ctx, settings) -> Job`` whose ``run(stop)`` loops until ``stop`` is set;
issues that add background work register their factory in ``JOBS``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from restapi.agent.jobs import ReminderJob, WeeklyCloseJob
from restapi.auth.purge import auth_purge
from restapi.betting.grader import Grader
from restapi.config import RestSettings
from shared.daemon import DaemonContext, daemon_resources

log = logging.getLogger(__name__)


class Job(Protocol):
    """A background loop."""

    name: str

    async def run(self, stop: asyncio.Event) -> None: ...


JobFactory = Callable[[DaemonContext, RestSettings], Job]
JOBS: list[JobFactory] = [Grader, WeeklyCloseJob, ReminderJob, auth_purge]


async def run(settings: RestSettings, stop: asyncio.Event, jobs: list[JobFactory] | None = None,
              on_ready: Callable[[DaemonContext], None] | None = None) -> None:
    """Start the side server and every job; return once ``stop`` is set and all jobs ended."""
    async with daemon_resources("jobs", settings, settings.jobs_host, settings.jobs_port) as ctx:
        loops = [factory(ctx, settings) for factory in (JOBS if jobs is None else jobs)]
        log.info("jobs process running %d job(s): %s", len(loops), ", ".join(j.name for j in loops))
        if on_ready is not None:
            on_ready(ctx)
        async with asyncio.TaskGroup() as tg:
            for job in loops:
                tg.create_task(job.run(stop), name=job.name)
            await stop.wait()
        log.info("jobs process stopped")
