"""The agent tree as a master sees it: each agent's book (its own players only) with its figures.

For every agent in the viewer's tree (the viewer first, then its sub-agents; every agent for an
admin): players, this week's net on that agent's own week boundaries, open risk, and its open
settlements by state at ``now``; plus the rollup of the whole tree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiopg

from restapi.agent.cycles import schedule_for, week_bounds

TREE = """
SELECT a.id, a.login, a.display_name, s.depth, a.agent_id
  FROM agent_scope(%(viewer)s) s JOIN users a ON a.id = s.agent_id
 ORDER BY s.depth, a.login
"""
BOOK = """
SELECT count(*)::int, coalesce(sum(p.pending_risk_cents), 0)::bigint, coalesce(sum(p.balance_cents), 0)::bigint
  FROM users p WHERE p.agent_id = %(agent)s AND p.role = 'player'
"""
WEEK_NET = """
SELECT coalesce(sum(e.amount_cents), 0)::bigint
  FROM ledger_entries e JOIN users p ON p.id = e.account_id
 WHERE p.agent_id = %(agent)s AND p.role = 'player' AND e.created_at >= %(start)s AND e.created_at < %(now)s
   AND e.kind IN ('bet_win', 'bet_loss', 'adjustment', 'free_play')
"""
OPEN_SETTLEMENTS = """
SELECT count(*) FILTER (WHERE c.due_at >= %(now)s AND s.status = 'pending')::int,
       count(*) FILTER (WHERE c.due_at >= %(now)s AND s.status = 'partial')::int,
       count(*) FILTER (WHERE c.due_at < %(now)s)::int,
       coalesce(sum(abs(s.figure_cents) - s.paid_cents), 0)::bigint
  FROM settlements s JOIN settlement_cycles c ON c.id = s.cycle_id
 WHERE c.agent_id = %(agent)s AND s.status <> 'settled'
"""
FIGURES = ("players", "open_risk_cents", "balances_cents", "week_net_cents", "pending", "partial", "overdue",
           "outstanding_cents")


async def tree(pool: aiopg.Pool, viewer: int, now: datetime) -> dict[str, Any]:
    """Every agent of the viewer's tree with its own book's figures, and the tree's rollup."""
    agents: list[dict[str, Any]] = []
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(TREE, {"viewer": viewer})
        for agent_id, login, name, depth, master in await cur.fetchall():
            schedule = await schedule_for(cur, agent_id)
            start, _end = week_bounds(now, schedule, current=True)
            await cur.execute(BOOK, {"agent": agent_id})
            players, risk, balances = await cur.fetchone()
            await cur.execute(WEEK_NET, {"agent": agent_id, "start": start, "now": now})
            (net,) = await cur.fetchone()
            await cur.execute(OPEN_SETTLEMENTS, {"agent": agent_id, "now": now})
            pending, partial, overdue, outstanding = await cur.fetchone()
            agents.append({"agent_id": agent_id, "login": login, "display_name": name, "depth": depth,
                           "master_id": master, "timezone": schedule.timezone, "week_start": start.isoformat(),
                           "players": players, "open_risk_cents": risk, "balances_cents": balances,
                           "week_net_cents": net, "pending": pending, "partial": partial, "overdue": overdue,
                           "outstanding_cents": outstanding})
    rollup = {k: sum(a[k] for a in agents) for k in FIGURES}
    return {"agents": agents, "rollup": rollup, "generated_at": now.isoformat()}
