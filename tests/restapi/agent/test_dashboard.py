"""The agent dashboard on the demo book: every tile equals a figure computed independently in SQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.restapi.agent.helpers import DEMO_NOW, DemoApp, demo_app

SCOPE = "SELECT agent_id FROM agent_scope(%(viewer)s)"
# Open settlements by state at now, written from the states' definitions (restapi.agent.cycles).
OPEN_BY_STATE = f"""
SELECT CASE WHEN c.due_at < %(now)s THEN 'overdue' ELSE s.status END, count(*)::int,
       sum(abs(s.figure_cents) - s.paid_cents)::bigint
  FROM settlements s JOIN settlement_cycles c ON c.id = s.cycle_id
 WHERE s.status IN ('pending', 'partial') AND c.agent_id IN ({SCOPE})
 GROUP BY 1
"""
# Risk still held by each bet: its entries' risk added up per bet reference.
OPEN_BETS = f"""
SELECT count(*)::int, coalesce(sum(r), 0)::bigint FROM (
  SELECT sum(e.risk_cents) AS r FROM ledger_entries e JOIN users u ON u.id = e.account_id
   WHERE u.role = 'player' AND u.agent_id IN ({SCOPE})
   GROUP BY e.account_id, e.ref_type, e.ref_id HAVING sum(e.risk_cents) <> 0) b
"""
PENDING_RISK = f"""
SELECT sum(pending_risk_cents)::bigint FROM users WHERE role = 'player' AND agent_id IN ({SCOPE})
"""
# The last close at or before now, in the agent's own zone, computed by PostgreSQL: shift the local
# time back by (Tuesday - Monday + close time), truncate to the ISO week's Monday, shift forward again.
WEEK_START = """
SELECT ((date_trunc('week', (%(now)s::timestamptz AT TIME ZONE a.timezone)
                            - (interval '1 day' + a.close_time::interval))
         + interval '1 day' + a.close_time::interval) AT TIME ZONE a.timezone)
  FROM agent_settings a WHERE a.agent_id = %(agent)s
"""
BOOK_NET = f"""
SELECT coalesce(sum(e.amount_cents), 0)::bigint FROM ledger_entries e JOIN users u ON u.id = e.account_id
 WHERE u.role = 'player' AND u.agent_id IN ({SCOPE}) AND e.created_at >= %(start)s AND e.created_at < %(end)s
   AND e.kind IN ('bet_win', 'bet_loss', 'adjustment', 'free_play')
"""


@pytest.fixture
async def demo(aiohttp_client: Any, base_env: dict[str, str], keys_dir: Path, demo_db: str) -> Any:
    async with demo_app(aiohttp_client, {**base_env, "DATABASE_URL": demo_db}, keys_dir, demo_db) as app:
        yield app


async def _dash(demo: DemoApp, who: str) -> dict[str, Any]:
    status, body = await demo.get(who, "/api/v1/agent/dashboard")
    assert status == 200, body
    return dict(body)


async def _states(demo: DemoApp, who: str) -> dict[str, tuple[int, int]]:
    rows = await demo.sql(OPEN_BY_STATE, {"viewer": demo.ids[who], "now": DEMO_NOW})
    return {state: (n, cents) for state, n, cents in rows}


@pytest.mark.parametrize("who", ["agent1", "agent2"])
async def test_pending_tile_is_the_unpaid_settlements_not_yet_due(demo: DemoApp, who: str) -> None:
    d = (await _dash(demo, who))["settlements"]
    n, cents = (await _states(demo, who)).get("pending", (0, 0))
    assert (d["pending"], d["pending_cents"]) == (n, cents) and n > 0


@pytest.mark.parametrize("who", ["agent1", "agent2"])
async def test_partial_tile_is_the_part_paid_settlements_not_yet_due(demo: DemoApp, who: str) -> None:
    d = (await _dash(demo, who))["settlements"]
    assert (d["partial"], d["partial_cents"]) == (await _states(demo, who)).get("partial", (0, 0))


async def test_overdue_tile_is_every_open_settlement_past_its_due_date(demo: DemoApp) -> None:
    d = (await _dash(demo, "agent1"))["settlements"]
    n, cents = (await _states(demo, "agent1"))["overdue"]
    assert (d["overdue"], d["overdue_cents"]) == (n, cents) and n > 0


async def test_open_risk_tile_is_the_players_pending_risk_and_every_open_bet(demo: DemoApp) -> None:
    d = await _dash(demo, "agent1")
    viewer = {"viewer": demo.ids["agent1"]}
    ((pending,),) = await demo.sql(PENDING_RISK, viewer)
    ((bets, held),) = await demo.sql(OPEN_BETS, viewer)
    assert d["exposure"]["open_risk_cents"] == pending == held and held > 0


async def test_exposure_by_event_covers_every_open_bet(demo: DemoApp) -> None:
    for who in ("agent1", "agent2"):
        d = await _dash(demo, who)
        ((bets, held),) = await demo.sql(OPEN_BETS, {"viewer": demo.ids[who]})
        rows = d["exposure"]["by_event"]
        assert sum(r["open_risk_cents"] for r in rows) == held == d["exposure"]["open_risk_cents"]
        assert sum(r["bets"] for r in rows) == bets
        assert all(r["event"] and r["event"] != "Event not recorded" for r in rows)


@pytest.mark.parametrize("who", ["agent1", "agent2"])
async def test_revenue_tiles_follow_the_agents_week_boundaries(demo: DemoApp, who: str) -> None:
    """This week = [last close, now), last week = the week before: minus the players' net, and last
    week's revenue is minus the sum of that closed cycle's settlement figures."""
    d = await _dash(demo, who)
    agent = demo.ids[who]
    ((this_start,),) = await demo.sql(WEEK_START, {"now": DEMO_NOW, "agent": agent})
    ((last_start,),) = await demo.sql(WEEK_START, {"now": this_start - timedelta(days=1), "agent": agent})
    assert d["week"]["start"] == this_start.isoformat() and d["week"]["last_start"] == last_start.isoformat()
    ((this_net,),) = await demo.sql(BOOK_NET, {"viewer": agent, "start": this_start, "end": DEMO_NOW})
    ((last_net,),) = await demo.sql(BOOK_NET, {"viewer": agent, "start": last_start, "end": this_start})
    assert d["revenue"] == {"this_week_cents": -this_net, "last_week_cents": -last_net}
    assert this_net != 0 and last_net != 0
    ((closed,),) = await demo.sql(
        "SELECT sum(s.figure_cents)::bigint FROM settlements s JOIN settlement_cycles c ON c.id = s.cycle_id "
        "WHERE c.agent_id = %(a)s AND c.week_start = %(s)s", {"a": agent, "s": last_start})
    if who == "agent2":  # a leaf agent: its cycle holds every player of its tree
        assert -closed == d["revenue"]["last_week_cents"]


async def test_the_master_can_narrow_the_dashboard_to_a_sub_agent(demo: DemoApp) -> None:
    mine = await _dash(demo, "agent2")
    status, narrowed = await demo.get("agent1", "/api/v1/agent/dashboard",
                                      params={"agent_id": str(demo.ids["agent2"])})
    assert status == 200
    for key in ("revenue", "settlements", "exposure", "week"):
        assert narrowed[key] == mine[key], key
    status, body = await demo.get("agent2", "/api/v1/agent/dashboard", params={"agent_id": str(demo.ids["agent1"])})
    assert status == 404 and body["message"] == "No such agent in your book"


async def test_sub_agents_page_lists_each_book_and_the_rollup(demo: DemoApp) -> None:
    status, body = await demo.get("agent1", "/api/v1/agent/agents")
    assert status == 200
    agents = {a["login"]: a for a in body["agents"]}
    assert list(agents) == ["agent1", "agent2"] and agents["agent2"]["depth"] == 1
    for login, a in agents.items():
        ((players, risk),) = await demo.sql(
            "SELECT count(*)::int, sum(pending_risk_cents)::bigint FROM users "
            "WHERE agent_id = %(a)s AND role = 'player'",
            {"a": demo.ids[login]})
        assert (a["players"], a["open_risk_cents"]) == (players, risk)
        narrowed = (await demo.get(login, "/api/v1/agent/dashboard"))[1] if login == "agent2" else None
        if narrowed:
            assert a["open_risk_cents"] == narrowed["exposure"]["open_risk_cents"]
            st = narrowed["settlements"]
            assert (a["pending"], a["partial"], a["overdue"]) == (st["pending"], st["partial"], st["overdue"])
            assert a["outstanding_cents"] == st["pending_cents"] + st["partial_cents"] + st["overdue_cents"]
    assert body["rollup"]["players"] == 20
    assert body["rollup"]["open_risk_cents"] == (await _dash(demo, "agent1"))["exposure"]["open_risk_cents"]
    status, body = await demo.get("agent2", "/api/v1/agent/agents")
    assert [a["login"] for a in body["agents"]] == ["agent2"]
    status, body = await demo.get("admin", "/api/v1/agent/agents")
    assert [a["login"] for a in body["agents"]] == ["agent1", "agent2"]


async def test_settlements_come_grouped_by_cycle_in_pages(demo: DemoApp) -> None:
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": "7", "status": "settled"} | ({"cursor": cursor} if cursor else {})
        status, body = await demo.get("agent1", "/api/v1/agent/settlements", params=params)
        assert status == 200
        seen += [i["id"] for i in body["items"]]
        assert sum(len(c["items"]) for c in body["cycles"]) == len(body["items"])
        for c in body["cycles"]:
            assert {i["cycle_id"] for i in c["items"]} == {c["cycle_id"]}
            assert c["first_day"] < c["last_day"]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    ((total,),) = await demo.sql(
        "SELECT count(*)::int FROM settlements s JOIN settlement_cycles c ON c.id = s.cycle_id "
        "WHERE s.status = 'settled' AND c.week_end > %(now)s - interval '35 days'", {"now": DEMO_NOW})
    assert len(seen) == len(set(seen)) == total and pages > 1
    status, body = await demo.get("agent1", "/api/v1/agent/settlements",
                                  params={"agent_id": str(demo.ids["agent2"]), "status": "open"})
    assert body["items"] and {i["agent_login"] for i in body["items"]} == {"agent2"}
