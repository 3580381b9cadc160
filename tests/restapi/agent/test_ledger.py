"""The ledger: hash chain, append-only trigger, credit checks, concurrency and tamper detection."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import aiopg
import psycopg2
import pytest

from restapi import ledger
from restapi.ledger.verify import verify
from shared.db import create_pool
from tests.helpers import scaled

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

MAKE_USERS = """
INSERT INTO users (id, login, role, agent_id, credit_limit_cents) VALUES
  (1, 'agent', 'agent', NULL, 0), (2, 'p1', 'player', 1, 10000), (3, 'p2', 'player', 1, 0)
"""


async def _setup(dsn: str) -> aiopg.Pool:
    pool = await create_pool(dsn, 1, 20)
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(MAKE_USERS)
    return pool


async def _post(pool: aiopg.Pool, **kw: object) -> ledger.Entry:
    async with pool.acquire() as conn, conn.cursor() as cur, cur.begin():
        return await ledger.post(cur, **kw)  # type: ignore[arg-type]


async def test_post_chains_entries_and_moves_balance_and_risk(database_url: str) -> None:
    pool = await _setup(database_url)
    try:
        a = await _post(pool, account_id=2, amount_cents=5000, kind="deposit", actor_id=1)
        b = await _post(pool, account_id=2, amount_cents=0, risk_cents=3000, kind="bet_risk",
                        ref_type="bet", ref_id=9, meta={"sport": "basketball_nba"})
        c = await _post(pool, account_id=2, amount_cents=-3000, risk_cents=-3000, kind="bet_loss",
                        ref_type="bet", ref_id=9)
        assert (a.seq, b.seq, c.seq) == (1, 2, 3)
        assert a.prev_hash == ledger.GENESIS and b.prev_hash == a.hash and c.prev_hash == b.hash
        assert (b.balance_after, b.risk_after, c.balance_after, c.risk_after) == (5000, 3000, 2000, 0)
        async with pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute("SELECT balance_cents, pending_risk_cents, ledger_head FROM users WHERE id = 2")
            assert await cur.fetchone() == (2000, 0, c.hash)
        assert (await verify(pool)).ok
    finally:
        pool.close()
        await pool.wait_closed()


async def test_prepare_then_append_posts_like_post_and_a_stale_tip_is_refused(database_url: str) -> None:
    pool = await _setup(database_url)
    try:
        async with pool.acquire() as conn, conn.cursor() as cur, cur.begin():
            tip = await ledger.lock(cur, 2)
            posting = ledger.prepare(tip, amount_cents=0, risk_cents=2500, kind="bet_risk", ref_type="bet",
                                     ref_id=5, meta={"sport": "nba"})
            entry = await ledger.append(cur, posting)
        assert (entry.seq, entry.risk_after, entry.prev_hash) == (1, 2500, ledger.GENESIS) and entry.id > 0
        with pytest.raises(ledger.InsufficientCredit):  # 10000 credit, 2500 held: 7501 is too much
            ledger.prepare(await _tip(pool, 2), amount_cents=0, risk_cents=7501, kind="bet_risk")
        stale = await _tip(pool, 2)
        await _post(pool, account_id=2, amount_cents=100, kind="deposit")  # the chain moves on
        with pytest.raises(psycopg2.errors.SerializationFailure):
            async with pool.acquire() as conn, conn.cursor() as cur, cur.begin():
                await ledger.append(cur, ledger.prepare(stale, amount_cents=100, kind="deposit"))
        report = await verify(pool)
        assert report.ok and report.entries == 2
    finally:
        pool.close()
        await pool.wait_closed()


async def _tip(pool: aiopg.Pool, account_id: int) -> ledger.Tip:
    async with pool.acquire() as conn, conn.cursor() as cur, cur.begin():
        return await ledger.lock(cur, account_id)


async def test_post_refuses_to_overdraw_unless_overridden(database_url: str) -> None:
    pool = await _setup(database_url)
    try:
        await _post(pool, account_id=2, amount_cents=0, risk_cents=6000, kind="bet_risk")
        with pytest.raises(ledger.InsufficientCredit) as err:
            await _post(pool, account_id=2, amount_cents=-4001, kind="withdrawal")
        assert err.value.details["available_cents"] == 4000
        with pytest.raises(ledger.InsufficientCredit):
            await _post(pool, account_id=3, amount_cents=0, risk_cents=1, kind="bet_risk")
        entry = await _post(pool, account_id=2, amount_cents=-4001, kind="withdrawal", override=True)
        assert entry.override and entry.balance_after == -4001
        assert ledger.available_cents(-4001, 10000, 6000) == -1
        assert (await verify(pool)).ok
    finally:
        pool.close()
        await pool.wait_closed()


async def test_post_outside_a_transaction_is_refused(database_url: str) -> None:
    pool = await _setup(database_url)
    try:
        async with pool.acquire() as conn, conn.cursor() as cur:
            with pytest.raises(RuntimeError):
                await ledger.post(cur, account_id=2, amount_cents=1, kind="deposit")
    finally:
        pool.close()
        await pool.wait_closed()


async def test_ledger_is_append_only(database_url: str) -> None:
    pool = await _setup(database_url)
    try:
        await _post(pool, account_id=2, amount_cents=100, kind="deposit")
    finally:
        pool.close()
        await pool.wait_closed()
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for sql in ("UPDATE ledger_entries SET amount_cents = 1", "DELETE FROM ledger_entries",
                        "TRUNCATE ledger_entries CASCADE"):
                with pytest.raises(psycopg2.Error, match="append-only"):
                    cur.execute(sql)
            cur.execute("SELECT amount_cents FROM ledger_entries")
            assert cur.fetchall() == [(100,)]
    finally:
        conn.close()


async def test_fifty_concurrent_credits_and_debits_reconcile(database_url: str) -> None:
    """Concurrent posts on one account serialise: balance equals the ledger sum, the chain verifies."""
    pool = await _setup(database_url)
    try:
        amounts = [(+700 if i % 2 else -900) for i in range(50)]

        async def one(amount: int) -> bool:
            try:
                await _post(pool, account_id=2, amount_cents=amount,
                            kind="deposit" if amount > 0 else "withdrawal")
                return True
            except ledger.InsufficientCredit:
                return False

        results = await asyncio.gather(*(one(a) for a in amounts))
        async with pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute("SELECT balance_cents, ledger_seq FROM users WHERE id = 2")
            balance, seq = await cur.fetchone()
            await cur.execute("SELECT coalesce(sum(amount_cents), 0), count(*) FROM ledger_entries "
                              "WHERE account_id = 2")
            total, count = await cur.fetchone()
        assert balance == total == sum(a for a, ok in zip(amounts, results, strict=True) if ok)
        assert seq == count == sum(results)
        assert balance >= -10000
        report = await verify(pool)
        assert report.ok and report.entries == count
    finally:
        pool.close()
        await pool.wait_closed()


async def test_verify_finds_a_tampered_row(database_url: str) -> None:
    pool = await _setup(database_url)
    try:
        entries = [await _post(pool, account_id=2, amount_cents=100 * i, kind="deposit") for i in (1, 2, 3)]
        await _post(pool, account_id=3, amount_cents=50, kind="deposit")
        async with pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute("ALTER TABLE ledger_entries DISABLE TRIGGER ledger_no_update_delete")
            await cur.execute("UPDATE ledger_entries SET memo = 'edited' WHERE id = %(id)s", {"id": entries[1].id})
            await cur.execute("ALTER TABLE ledger_entries ENABLE TRIGGER ledger_no_update_delete")
        report = await verify(pool)
        assert not report.ok
        assert report.broken == {"entry_id": entries[1].id, "account_id": 2, "seq": 2,
                                 "reason": "hash does not match the entry's contents"}
        assert (await verify(pool, 3)).ok
    finally:
        pool.close()
        await pool.wait_closed()
    env = {**os.environ, "DATABASE_URL": database_url}
    proc = subprocess.run([sys.executable, "-m", "restapi.ledger", "verify"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=scaled(60))
    assert proc.returncode == 1 and '"ok": false' in proc.stdout and str(entries[1].id) in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "restapi.ledger", "verify", "--account", "3"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=scaled(60))
    assert proc.returncode == 0 and '"ok": true' in proc.stdout


async def test_verify_finds_a_balance_edited_outside_the_ledger(database_url: str) -> None:
    pool = await _setup(database_url)
    try:
        await _post(pool, account_id=2, amount_cents=100, kind="deposit")
        async with pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute("UPDATE users SET balance_cents = 999 WHERE id = 2")
        report = await verify(pool)
        assert report.broken is not None and "balance" in report.broken["reason"]
    finally:
        pool.close()
        await pool.wait_closed()


async def test_adopt_balance_opens_the_chain_with_the_existing_balance(database_url: str) -> None:
    pool = await _setup(database_url)
    try:
        async with pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute("UPDATE users SET balance_cents = -2500 WHERE id = 3")
        assert not (await verify(pool)).ok
        async with pool.acquire() as conn, conn.cursor() as cur, cur.begin():
            entry = await ledger.adopt_balance(cur, account_id=3)
            again = await ledger.adopt_balance(cur, account_id=3)
        assert entry is not None and entry.kind == "opening_balance" and entry.balance_after == -2500
        assert again is None
        assert (await verify(pool)).ok
    finally:
        pool.close()
        await pool.wait_closed()


async def test_a_bet_hold_marks_the_player_active(database_url: str) -> None:
    pool = await _setup(database_url)
    try:
        entry = await _post(pool, account_id=2, amount_cents=0, risk_cents=100, kind="bet_risk")
        await _post(pool, account_id=2, amount_cents=5, kind="deposit")
        async with pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute("SELECT last_bet_at, last_active_at FROM users WHERE id = 2")
            assert await cur.fetchone() == (entry.created_at, entry.created_at)
    finally:
        pool.close()
        await pool.wait_closed()
