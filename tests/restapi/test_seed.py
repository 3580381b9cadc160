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
