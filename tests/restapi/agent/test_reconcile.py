"""Reconciliation: a player's net in the weekly report == its settlement figure == the ledger's sum.

On the demo book (every closed week of both agents, one in UTC, one in New York closing at 06:00) and,
as a property, on random books in random zones whose weeks cross daylight-saving changes.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from restapi import ledger
from restapi.agent import settlements
from restapi.agent.cycles import Schedule, last_close, shift, week_days
from shared.db import create_pool
from tests.restapi.agent.helpers import demo_app, reconcile_agent


async def test_every_closed_demo_week_reconciles_to_the_cent(aiohttp_client: Any, base_env: dict[str, str],
                                                             keys_dir: Path, demo_db: str) -> None:
    async with demo_app(aiohttp_client, {**base_env, "DATABASE_URL": demo_db}, keys_dir, demo_db) as demo:
        pool = await create_pool(demo_db, 1, 2)
        try:
            checked = 0
            for login, schedule in (("agent1", Schedule()),
                                    ("agent2", Schedule("America/New_York", close_time=time(6)))):
                cycles = await reconcile_agent(pool, demo.ids[login], schedule)
                assert len(cycles) >= 5
                for cycle in cycles:
                    for player, (net, figure, ledger_sum) in cycle.rows.items():
                        assert net == figure == ledger_sum, (login, cycle.first, player)
                        checked += net != 0
                # The same week through the API, as the page asks for it: the same figures.
                last = cycles[-1]
                status, body = await demo.get(login, "/api/v1/agent/reports/customers",
                                              params={"from": last.first, "to": last.last})
                assert status == 200
                api = {r["player_id"]: r["net_cents"] for r in body["items"] if r["agent_login"] == login}
                assert api == {p: v[1] for p, v in last.rows.items()} | {
                    p: 0 for p in api if p not in last.rows}
        finally:
            pool.close()
            await pool.wait_closed()
    assert checked > 50


_ids = itertools.count(5000)
ZONES = ("UTC", "America/New_York", "Europe/London", "Australia/Sydney", "America/Sao_Paulo", "Asia/Kolkata")
KINDS = ("bet_win", "bet_loss", "adjustment", "free_play", "deposit", "bet_risk")


async def _random_book(dsn: str, zone: str, close: time, dow: int, start: datetime, seed: int) -> None:
    """An agent with three players and random postings over four weeks from ``start``; close its weeks and
    check each against the report."""
    agent = next(_ids)
    players = [next(_ids) for _ in range(3)]
    schedule = Schedule(zone, dow, close)
    rng = random.Random(seed)
    pool = await create_pool(dsn, 1, 2)
    try:
        async with pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute("INSERT INTO users (id, login, role) VALUES (%(id)s, %(l)s, 'agent')",
                              {"id": agent, "l": f"ag{agent}"})
            await cur.execute("INSERT INTO agent_settings (agent_id, timezone, close_dow, close_time) "
                              "VALUES (%(a)s, %(z)s, %(d)s, %(t)s)", {"a": agent, "z": zone, "d": dow, "t": close})
            for p in players:
                await cur.execute("INSERT INTO users (id, login, role, agent_id, credit_limit_cents) "
                                  "VALUES (%(id)s, %(l)s, 'player', %(a)s, 10000000)",
                                  {"id": p, "l": f"p{p}", "a": agent})
            first_close = last_close(start, schedule)
            closes = [shift(first_close, schedule, k) for k in range(1, 5)]
            # Postings around every close (an hour either side, and exactly on it) and in between.
            instants = [c + timedelta(minutes=m) for c in [first_close, *closes] for m in (-61, -1, 0, 1, 59)]
            instants += [first_close + timedelta(minutes=rng.randrange(0, 4 * 7 * 24 * 60)) for _ in range(40)]
            for at in sorted(instants):
                kind = rng.choice(KINDS)
                amount = rng.randrange(1, 50_000)
                signed = {"bet_loss": -amount, "deposit": amount, "bet_risk": 0}.get(kind, rng.choice([-1, 1]) * amount)
                async with cur.begin():
                    await ledger.post(cur, account_id=rng.choice(players), amount_cents=signed, kind=kind,
                                      risk_cents=amount if kind == "bet_risk" else 0, ref_type="bet",
                                      ref_id=f"r{agent}-{at.timestamp()}-{kind}", override=True, at=at)
        for end in closes:
            await settlements.close_week(pool, agent, end, schedule, now=end)
        cycles = await reconcile_agent(pool, agent, schedule)
        assert len(cycles) == 4
        for cycle in cycles:
            first, last = datetime.fromisoformat(cycle.first), datetime.fromisoformat(cycle.last)
            assert (last - first).days == 6
            for player, (net, figure, ledger_sum) in cycle.rows.items():
                assert net == figure == ledger_sum, (zone, close, cycle.first, player)
    finally:
        pool.close()
        await pool.wait_closed()


# Starts a little before the 2026 daylight-saving changes of the zones above (Mar/Apr, Oct/Nov).
STARTS = st.sampled_from([datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 20, tzinfo=UTC),
                          datetime(2026, 10, 15, tzinfo=UTC), datetime(2026, 10, 20, tzinfo=UTC)])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(zone=st.sampled_from(ZONES), hour=st.sampled_from([0, 1, 6, 23]), dow=st.integers(1, 7),
       start=STARTS, seed=st.integers(0, 2**32))
def test_random_books_reconcile_across_daylight_saving_changes(database_url: str, zone: str, hour: int,
                                                               dow: int, start: datetime, seed: int) -> None:
    asyncio.run(_random_book(database_url, zone, time(hour), dow, start, seed))


def test_seven_business_days_are_one_cycle_across_dst() -> None:
    schedule = Schedule("America/New_York", close_time=time(6))
    end = datetime(2026, 11, 3, 11, tzinfo=UTC)  # Tue Nov 3 06:00 EST, after the Nov 1 change
    start = shift(end, schedule, -1)
    assert end - start == timedelta(hours=169)
    assert [d.isoformat() for d in week_days(start, end, schedule)] == ["2026-10-27", "2026-11-02"]
