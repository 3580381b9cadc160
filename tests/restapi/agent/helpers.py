"""Helpers of the agent tests: an app on the demo book at a fixed instant, and the reconciliation check."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiopg

from restapi.agent import reports
from restapi.agent.common import Window
from restapi.agent.cycles import Schedule, week_days
from restapi.app import create_app
from restapi.config import RestSettings
from shared.clock import fixed
from shared.config import load
from shared.tokens import KeyRing, access_claims

# The demo book's "now" in these tests: a Friday afternoon (every settlement state is on show).
DEMO_NOW = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)

CYCLES = """
SELECT c.id, c.agent_id, c.week_start, c.week_end FROM settlement_cycles c
 WHERE c.agent_id = %(agent_id)s ORDER BY c.week_end
"""
FIGURES = "SELECT player_id, figure_cents FROM settlements WHERE cycle_id = %(cycle_id)s"
# The ledger's own sum over a cycle's window, written independently of the report's SQL.
LEDGER_NET = """
SELECT e.account_id, sum(e.amount_cents)::bigint FROM ledger_entries e JOIN users u ON u.id = e.account_id
 WHERE u.agent_id = %(agent_id)s AND u.role = 'player' AND e.created_at >= %(start)s AND e.created_at < %(end)s
   AND e.kind IN ('bet_win', 'bet_loss', 'adjustment', 'free_play')
 GROUP BY 1
"""


@dataclass(frozen=True, slots=True)
class Reconciled:
    """One closed cycle of one agent: the report's days and, per player, the three figures."""

    cycle_id: int
    first: str
    last: str
    rows: dict[int, tuple[int, int, int]]  # player -> (report net, settlement figure, ledger sum)


async def reconcile_agent(pool: aiopg.Pool, agent_id: int, schedule: Schedule) -> list[Reconciled]:
    """For each closed cycle of ``agent_id``: the weekly report's net per player (the report's own code
    over the cycle's business days), the settlement's figure and the ledger's sum over the window."""
    out: list[Reconciled] = []
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(CYCLES, {"agent_id": agent_id})
        cycles = await cur.fetchall()
        for cycle_id, _agent, start, end in cycles:
            first, last = week_days(start, end, schedule)
            window = Window(first, last, schedule, agent_id)
            assert (window.starts_at, window.ends_at) == (start, end), "seven business days are the cycle"
            await cur.execute(FIGURES, {"cycle_id": cycle_id})
            figures = dict(await cur.fetchall())
            await cur.execute(LEDGER_NET, {"agent_id": agent_id, "start": start, "end": end})
            sums = dict(await cur.fetchall())
            net: dict[int, int] = {}
            async for page in reports.customer_pages(pool, agent_id, window):
                net.update({r["player_id"]: r["net_cents"] for r in page})
            players = set(net) | set(figures) | set(sums)
            out.append(Reconciled(cycle_id, first.isoformat(), last.isoformat(),
                                  {p: (net.get(p, 0), figures.get(p, 0), sums.get(p, 0)) for p in players}))
    return out


@dataclass
class DemoApp:
    """restapi over the demo book with a fixed clock, and tokens for its agents."""

    client: Any
    dsn: str
    ids: dict[str, int]
    tokens: dict[str, str]

    async def get(self, who: str, path: str, **kw: Any) -> tuple[int, Any]:
        resp = await self.client.get(path, headers={"Authorization": f"Bearer {self.tokens[who]}"}, **kw)
        body = await resp.json() if resp.content_type == "application/json" else await resp.text()
        return resp.status, body

    async def sql(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        async with aiopg.connect(self.dsn) as conn, conn.cursor() as cur:
            await cur.execute(sql, params)
            return list(await cur.fetchall()) if cur.description else []


@asynccontextmanager
async def demo_app(aiohttp_client: Any, base_env: dict[str, str], keys_dir: Path, dsn: str,
                   now: datetime = DEMO_NOW) -> AsyncIterator[DemoApp]:
    """The app on the already seeded demo book, its clock fixed at ``now``."""
    app = create_app(load(RestSettings, {**base_env, "AGENT_DASHBOARD_TTL": "0"}, port=0), clock=fixed(now))
    client = await aiohttp_client(app)
    async with aiopg.connect(dsn) as conn, conn.cursor() as cur:
        await cur.execute("SELECT login, id, role, agent_id FROM users WHERE role <> 'player'")
        rows = await cur.fetchall()
    ring = KeyRing.load(keys_dir)
    tokens = {login: ring.sign(access_claims(uid, role, agent, ttl=600)) for login, uid, role, agent in rows}
    yield DemoApp(client, dsn, {login: uid for login, uid, _r, _a in rows}, tokens)
