"""Runs every registered job loop under one TaskGroup until ``stop`` is set.

A job is a factory ``(ctx, settings) -> shared.daemon.Loop`` whose ``run(stop)`` loops until ``stop`` is set;
issues that add background work register their factory in ``JOBS``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from restapi.agent.jobs import ReminderJob, WeeklyCloseJob
from restapi.auth.purge import auth_purge
from restapi.betting.grader import Grader
from restapi.config import RestSettings
from restapi.jobs.opsmetrics import OpsMetrics
from shared.daemon import DaemonContext, Loop, daemon_resources, run_loops

log = logging.getLogger(__name__)


JobFactory = Callable[[DaemonContext, RestSettings], Loop]
JOBS: list[JobFactory] = [Grader, WeeklyCloseJob, ReminderJob, auth_purge, OpsMetrics]


async def run(settings: RestSettings, stop: asyncio.Event, jobs: list[JobFactory] | None = None,
              on_ready: Callable[[DaemonContext], None] | None = None) -> None:
    """Start the side server and every job; return once ``stop`` is set and all jobs ended."""
    async with daemon_resources("jobs", settings, settings.jobs_host, settings.jobs_port) as ctx:
        loops = [factory(ctx, settings) for factory in (JOBS if jobs is None else jobs)]
        log.info("jobs process running %d job(s): %s", len(loops), ", ".join(j.name for j in loops))
        if on_ready is not None:
            on_ready(ctx)
        await run_loops(loops, stop)
        log.info("jobs process stopped")
