"""The demo seed loads a consistent book and is idempotent."""

from __future__ import annotations

import aiopg
import bcrypt

from restapi import seed


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
    from restapi.ledger.verify import verify
    from shared.db import create_pool

    await seed.seed(database_url)
    await seed.seed(database_url)
    pool = await create_pool(database_url, 1, 2)
    try:
        report = await verify(pool)
        async with pool.acquire() as conn, conn.cursor() as cur:
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
    await seed.seed(database_url)
    async with aiopg.connect(database_url) as conn, conn.cursor() as cur:
        await cur.execute("SELECT count(DISTINCT date_trunc('week', created_at)) FROM ledger_entries "
                          "WHERE kind = 'bet_risk'")
        (weeks,) = await cur.fetchone()
        await cur.execute("SELECT count(*) FROM settlement_cycles")
        (cycles,) = await cur.fetchone()
        await cur.execute("""
            SELECT CASE WHEN s.status = 'partial' THEN 'partial'
                        WHEN s.status <> 'settled' AND c.due_at < now() THEN 'overdue'
                        WHEN s.status = 'settled' AND s.settled_at > c.due_at THEN 'late' ELSE s.status END,
                   count(*)
              FROM settlements s JOIN settlement_cycles c ON c.id = s.cycle_id GROUP BY 1""")
        states = dict(await cur.fetchall())
        await cur.execute("SELECT count(*) FROM users WHERE role = 'player' AND pending_risk_cents > 0")
        (with_open_bets,) = await cur.fetchone()
        await cur.execute("SELECT count(*) FROM ledger_entries")
        (entries,) = await cur.fetchone()
    assert weeks >= 5 and cycles == 12  # two agents, six closed weeks each
    assert {"settled", "late", "partial", "overdue", "pending"} <= set(states), states
    assert with_open_bets > 0
    await seed.seed(database_url)  # idempotent: history is not added twice
    async with aiopg.connect(database_url) as conn, conn.cursor() as cur:
        await cur.execute("SELECT count(*) FROM ledger_entries")
        assert await cur.fetchone() == (entries,)


async def test_seeded_bets_are_bets_with_legs_that_history_shows(database_url: str) -> None:
    """Every seeded wager is a ``bets`` row with legs (not only ledger entries), so a player's history
    lists their open bets and their stakes add up to the pending risk the ledger holds."""
    await seed.seed(database_url)
    async with aiopg.connect(database_url) as conn, conn.cursor() as cur:
        await cur.execute("""
            SELECT u.id FROM users u WHERE u.role = 'player' AND u.pending_risk_cents <>
                   (SELECT coalesce(sum(b.stake_cents), 0) FROM bets b WHERE b.user_id = u.id AND b.status = 'open')""")
        assert await cur.fetchall() == []
        await cur.execute("SELECT count(*) FROM bets WHERE status = 'open'")
        (open_bets,) = await cur.fetchone()
        await cur.execute("SELECT count(*) FROM bets b WHERE NOT EXISTS (SELECT 1 FROM bet_legs l WHERE l.bet_id = b.id)")
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
