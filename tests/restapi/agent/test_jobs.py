"""The jobs process runs the agent jobs: a week that has ended gets closed by the loop."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import aiopg

from restapi import ledger
from restapi.agent import settlements as agent_settlements
from restapi.agent.cycles import Schedule, last_close
from restapi.agent.jobs import ReminderJob, WeeklyCloseJob
from restapi.config import RestSettings
from restapi.jobs import runner
from shared.config import load
from tests.helpers import scaled, wait_for
from tests.restapi.agent.conftest import NOW


def test_agent_jobs_are_registered() -> None:
    assert WeeklyCloseJob in runner.JOBS and ReminderJob in runner.JOBS


async def test_weekly_close_job_closes_the_ended_week_once(base_env: dict[str, str], database_url: str) -> None:
    now = NOW  # a fixed instant: no wall clock, so a close passing mid-test changes nothing

    class CloseAtNow(WeeklyCloseJob):
        async def tick(self) -> None:
            await agent_settlements.close_due_weeks(self.ctx.pg, now)

    async with aiopg.connect(database_url) as conn, conn.cursor() as cur:
        await cur.execute("INSERT INTO users (id, login, role, agent_id) VALUES (2, 'agent', 'agent', NULL),"
                          " (10, 'p', 'player', 2)")
        async with cur.begin():
            await ledger.post(cur, account_id=10, amount_cents=-700, kind="bet_loss", override=True,
                              at=last_close(now, Schedule()) - timedelta(hours=1))
    settings = load(RestSettings, {**base_env, "AGENT_JOB_INTERVAL": "0.05"}, jobs_port=0)
    stop = asyncio.Event()

    async def settlements() -> list[tuple[int, int]]:
        async with aiopg.connect(database_url) as conn, conn.cursor() as cur:
            await cur.execute("SELECT player_id, figure_cents FROM settlements")
            return list(await cur.fetchall())

    # Two closing loops start at once, like two job processes: the week is still closed once.
    task = asyncio.create_task(runner.run(settings, stop, jobs=[CloseAtNow, CloseAtNow, ReminderJob]))
    try:
        await wait_for(lambda: settlements(), timeout=10, what="the weekly close")
        async with aiopg.connect(database_url) as conn, conn.cursor() as cur:
            await cur.execute("SELECT count(*) FROM settlement_cycles")
            first = await cur.fetchone()
    finally:
        stop.set()
        await asyncio.wait_for(task, scaled(10))
    assert await settlements() == [(10, -700)]
    assert first == (1,)
