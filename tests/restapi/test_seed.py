"""The demo seed loads a consistent book and is idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiopg
import bcrypt
import pytest

from restapi import seed, seed_book
from restapi.agent.cycles import due_at, last_close

# A Friday, when the master agent's latest week is already overdue (the seed once failed here).
FRIDAY = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
# The calendar sweep's instants (tests/calendar_sweep.sh): every weekday, the night before the
# Tuesday close, both US daylight-saving changes and the turn of the year.
SWEEP_INSTANTS = [datetime(2026, 11, 30, 12, 0, tzinfo=UTC) + timedelta(days=d) for d in range(7)] + [
    datetime(2026, 11, 30, 23, 59, 30, tzinfo=UTC), datetime(2026, 3, 8, 6, 30, tzinfo=UTC),
    datetime(2026, 11, 1, 6, 30, tzinfo=UTC), datetime(2026, 12, 31, 23, 59, 30, tzinfo=UTC),
    # The hour of the November DST week in which a 168-hour due date would precede the next close.
    datetime(2026, 11, 3, 10, 30, tzinfo=UTC),
]
STATES = """
SELECT CASE WHEN s.status = 'partial' THEN 'partial'
            WHEN s.status <> 'settled' AND c.due_at < %(now)s THEN 'overdue'
            WHEN s.status = 'settled' AND s.settled_at > c.due_at THEN 'late' ELSE s.status END,
       count(*)
  FROM settlements s JOIN settlement_cycles c ON c.id = s.cycle_id GROUP BY 1
"""


async def test_seed_loads_the_demo_book_once(database_url: str) -> None:
    assert await seed.seed(database_url) == 23
    assert await seed.seed(database_url) == 0
    async with aiopg.connect(database_url) as conn, conn.cursor() as cur:
        await cur.execute("SELECT role, count(*) FROM users GROUP BY role ORDER BY role")
        assert await cur.fetchall() == [("admin", 1), ("agent", 2), ("player", 20)]
        await cur.execute(
            "SELECT s.login FROM users s JOIN users m ON m.id = s.agent_id WHERE s.role = 'agent'"
        )
        assert await cur.fetchall() == [("agent2",)]
        await cur.execute("SELECT count(*) FROM users WHERE role = 'player' AND credit_limit_cents > 0")
        assert await cur.fetchone() == (20,)
        await cur.execute("SELECT password_hash FROM users WHERE login = 'player01'")
        (hashed,) = await cur.fetchone()
    assert bcrypt.checkpw(b"player-pass-123", hashed.encode())
    assert hashed.startswith("$2b$12$")


async def test_seed_balances_reconcile_with_the_ledger(database_url: str) -> None:
    """Seeded as ``./dev up`` does, at the moment it runs: the books reconcile, and an agent trying
    the demo sees settlements in every state (the calendar sweep runs this on every weekday)."""
    from restapi.ledger.verify import verify
    from shared.db import create_pool

    await seed.seed(database_url)
    await seed.seed(database_url)
    pool = await create_pool(database_url, 1, 2)
    try:
        report = await verify(pool)
        async with pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(STATES.replace("%(now)s", "now()"))
            states = dict(await cur.fetchall())
            assert {"settled", "late", "partial", "overdue", "pending"} <= set(states), states
            await cur.execute("SELECT count(*) FROM users u WHERE balance_cents <> "
                              "(SELECT coalesce(sum(amount_cents), 0) FROM ledger_entries WHERE account_id = u.id)")
            assert await cur.fetchone() == (0,)
            await cur.execute("SELECT count(*) FROM ledger_entries WHERE kind = 'opening_balance'")
            (opening,) = await cur.fetchone()
    finally:
        pool.close()
        await pool.wait_closed()
    assert report.ok and opening > 0


async def test_seed_history_has_weeks_of_activity_and_settlements_in_every_state(database_url: str) -> None:
    await seed.seed(database_url, now=FRIDAY)
    async with aiopg.connect(database_url) as conn, conn.cursor() as cur:
        await cur.execute("SELECT count(DISTINCT date_trunc('week', created_at)) FROM ledger_entries "
                          "WHERE kind = 'bet_risk'")
        (weeks,) = await cur.fetchone()
        await cur.execute("SELECT count(*) FROM settlement_cycles")
        (cycles,) = await cur.fetchone()
        await cur.execute(STATES, {"now": FRIDAY})
        states = dict(await cur.fetchall())
        await cur.execute("SELECT count(*) FROM ledger_entries WHERE created_at > %(now)s", {"now": FRIDAY})
        (future,) = await cur.fetchone()
        await cur.execute("SELECT count(*) FROM users WHERE role = 'player' AND pending_risk_cents > 0")
        (with_open_bets,) = await cur.fetchone()
        await cur.execute("SELECT count(*) FROM ledger_entries")
        (entries,) = await cur.fetchone()
    assert weeks >= 5 and cycles == 12  # two agents, six closed weeks each
    assert {"settled", "late", "partial", "overdue", "pending"} <= set(states), states
    assert with_open_bets > 0
    assert future == 0  # nothing is dated after the seed's now
    await seed.seed(database_url, now=FRIDAY)  # idempotent: history is not added twice
    async with aiopg.connect(database_url) as conn, conn.cursor() as cur:
        await cur.execute("SELECT count(*) FROM ledger_entries")
        assert await cur.fetchone() == (entries,)


@pytest.mark.parametrize("now", SWEEP_INSTANTS, ids=lambda t: t.strftime("%a-%Y%m%d-%H%M"))
def test_the_sub_agents_latest_week_is_not_yet_due_on_any_day(now: datetime) -> None:
    """Why the demo shows a pending settlement whatever the weekday: the sub-agent's latest closed
    week falls due at its next close, even across a daylight-saving change."""
    latest = last_close(now, seed_book.SUB_TERMS)
    assert latest <= now < due_at(latest, seed_book.SUB_TERMS)


async def test_seeded_bets_are_bets_with_legs_that_history_shows(database_url: str) -> None:
    """Every seeded wager is a ``bets`` row with legs (not only ledger entries), so a player's history
    lists their open bets and their stakes add up to the pending risk the ledger holds."""
    await seed.seed(database_url, now=FRIDAY)
    async with aiopg.connect(database_url) as conn, conn.cursor() as cur:
        await cur.execute("""
            SELECT u.id FROM users u WHERE u.role = 'player' AND u.pending_risk_cents <>
                   (SELECT coalesce(sum(b.stake_cents), 0) FROM bets b WHERE b.user_id = u.id AND b.status = 'open')""")
        assert await cur.fetchall() == []
        await cur.execute("SELECT count(*) FROM bets WHERE status = 'open'")
        (open_bets,) = await cur.fetchone()
        await cur.execute("SELECT count(*) FROM bets b WHERE NOT EXISTS "
                          "(SELECT 1 FROM bet_legs l WHERE l.bet_id = b.id)")
        assert await cur.fetchone() == (0,)
        await cur.execute("""
            SELECT count(*) FROM ledger_entries e WHERE e.ref_type = 'bet'
               AND NOT EXISTS (SELECT 1 FROM bets b WHERE b.id::text = e.ref_id AND b.user_id = e.account_id)""")
        assert await cur.fetchone() == (0,)  # every bet entry points at its bet, as a placed bet's does
        await cur.execute("SELECT count(*) FROM bets b WHERE b.bet_type = 'parlay' AND "
                          "(SELECT count(*) FROM bet_legs l WHERE l.bet_id = b.id) < 2")
        assert await cur.fetchone() == (0,)
        await cur.execute("SELECT count(*) FROM bets WHERE status = 'won' AND payout_cents <> potential_payout_cents")
        assert await cur.fetchone() == (0,)
    assert open_bets > 0
