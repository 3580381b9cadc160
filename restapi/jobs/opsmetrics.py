"""Operational gauges the alert rules need, measured from PostgreSQL and Redis by the jobs process.

What is measured here is measured from the outside of the job it watches: grader lag comes from the
legs still pending on finished games and from the ``results`` consumer group, not from the grader's
own counters, so a stalled or dead grader shows. Values are read every ``OPS_METRICS_INTERVAL``
seconds; a failed read is logged and leaves the last values in place.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any

from prometheus_client import Gauge
from redis.exceptions import ResponseError

from restapi.agent import queries_settle as sq
from restapi.agent.cycles import schedule_for
from restapi.agent.settlements import missed_closes
from restapi.betting.grader import GROUP
from restapi.config import RestSettings
from shared import streams
from shared.clock import Clock, utc_now
from shared.daemon import DaemonContext

log = logging.getLogger(__name__)

PENDING_FINAL = Gauge("grader_pending_final_legs", "Bet legs still pending on games that are final or cancelled")
OLDEST_PENDING_FINAL = Gauge("grader_oldest_pending_final_seconds",
                             "Age of the oldest result not graded yet: now minus the completion of its game")
GROUP_LAG = Gauge("grader_stream_lag_entries", "results entries the grader group has not read yet")
GROUP_PENDING = Gauge("grader_stream_pending_entries", "results entries read but not acknowledged by the grader")
CLOSE_OVERDUE = Gauge("weekly_close_overdue_weeks", "Ended agent weeks not closed yet (all agents)")
OPEN_RISK = Gauge("bets_open_risk_cents", "Stakes at risk on open bets, in cents (all books)")

PENDING_ON_FINAL = """
SELECT count(*), EXTRACT(EPOCH FROM %(now)s - min(e.completed_at))
  FROM bet_legs l JOIN events e ON e.id = l.event_id
 WHERE l.result = 'pending' AND e.status IN ('final', 'cancelled')
"""
LAG_COUNT_MAX = 10_000  # on Redis < 7 the lag is counted, up to this many entries
OPEN_RISK_SQL = "SELECT COALESCE(sum(pending_risk_cents), 0) FROM users WHERE role = 'player'"


async def read_bets(cur: Any, now: datetime) -> tuple[int, float, int]:
    """(legs pending on finished games, age of the oldest in seconds (0: none), open risk in cents)."""
    await cur.execute(PENDING_ON_FINAL, {"now": now})
    count, oldest = await cur.fetchone()
    await cur.execute(OPEN_RISK_SQL)
    (risk,) = await cur.fetchone()
    return int(count), max(0.0, float(oldest or 0)), int(risk)


async def read_overdue(cur: Any, now: datetime) -> int:
    """How many ended weeks, over every agent, wait to be closed."""
    await cur.execute(sq.AGENTS)
    overdue = 0
    for (agent_id,) in await cur.fetchall():
        schedule = await schedule_for(cur, agent_id)
        await cur.execute(sq.LAST_CYCLE_END, {"agent_id": agent_id})
        (last_closed,) = await cur.fetchone()
        overdue += len(missed_closes(last_closed, now, schedule))
    return overdue


def _field(info: dict[Any, Any], name: str) -> Any:
    return info.get(name, info.get(name.encode()))


async def read_group(redis: Any) -> tuple[int, int]:
    """(lag, pending) of the grader group on ``results``; (0, 0) before the stream or group exists."""
    try:
        groups = await redis.xinfo_groups(streams.RESULTS)
    except ResponseError:  # no stream yet
        return 0, 0
    for g in groups:
        name = _field(g, "name")
        if (name.decode() if isinstance(name, bytes) else name) == GROUP:
            lag = _field(g, "lag")
            if lag is None:  # Redis < 7 reports no lag: count the entries after the last delivered one
                last = _field(g, "last-delivered-id")
                last = last.decode() if isinstance(last, bytes) else str(last)
                lag = len(await redis.xrange(streams.RESULTS, min=f"({last}", count=LAG_COUNT_MAX))
            return int(lag), int(_field(g, "pending") or 0)
    return 0, 0


class OpsMetrics:
    """Refreshes the gauges above until ``stop``."""

    name = "ops.metrics"

    def __init__(self, ctx: DaemonContext, settings: RestSettings, clock: Clock = utc_now) -> None:
        self.ctx, self.settings, self.clock = ctx, settings, clock

    async def tick(self) -> None:
        """Read everything once and set the gauges."""
        now = self.clock()
        async with self.ctx.pg.acquire() as conn, conn.cursor() as cur:
            count, oldest, risk = await read_bets(cur, now)
            overdue = await read_overdue(cur, now)
        PENDING_FINAL.set(count)
        OLDEST_PENDING_FINAL.set(oldest)
        OPEN_RISK.set(risk)
        CLOSE_OVERDUE.set(overdue)
        lag, pending = await read_group(self.ctx.redis)
        GROUP_LAG.set(lag)
        GROUP_PENDING.set(pending)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except Exception as exc:  # a database or Redis blip must not end the jobs process
                log.warning("ops metrics not refreshed: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.ops_metrics_interval)
