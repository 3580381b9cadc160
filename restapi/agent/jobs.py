"""Background jobs of the agent hub: close due weeks, and send pre-close reminders.

Both are safe to run in several job processes at once: closing is guarded by an advisory lock and
a unique key per (agent, week end); a reminder is claimed by a unique row before it is sent.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging

from restapi.agent import settlements
from restapi.config import RestSettings
from shared.daemon import DaemonContext

log = logging.getLogger(__name__)


class _Periodic(abc.ABC):
    """Run ``tick`` every ``interval`` seconds until ``stop`` is set; a failed tick is logged, not fatal."""

    name = "periodic"

    def __init__(self, ctx: DaemonContext, settings: RestSettings) -> None:
        self.ctx, self.settings = ctx, settings

    @abc.abstractmethod
    async def tick(self) -> None:
        """One round of the job's work."""

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:  # a database blip must not end the jobs process
                log.exception("%s failed; retrying in %.1fs", self.name, self.settings.agent_job_interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.agent_job_interval)


class WeeklyCloseJob(_Periodic):
    """Close each agent's last ended week and open its settlements."""

    name = "agent.weekly_close"

    async def tick(self) -> None:
        await settlements.close_due_weeks(self.ctx.pg)


class ReminderJob(_Periodic):
    """Remind agents of pending settlements before their week closes (mail and push)."""

    name = "agent.settlement_reminders"

    async def tick(self) -> None:
        await settlements.send_due_reminders(self.ctx.pg, self.ctx.redis, self.settings)
