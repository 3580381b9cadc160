"""Concurrency: credit is never overdrawn and an idempotency key never yields two bets."""

from __future__ import annotations

import asyncio

import aiopg
from aiohttp.test_utils import TestClient

from tests.helpers import wait_for
from tests.restapi.betting.conftest import PLAYER, Book, account, chain_verified, ledger_sums, place, sql, straight


async def _lock_waiters(dsn: str) -> int:
    rows = await sql(dsn, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                          "AND wait_event_type = 'Lock'")
    return int(rows[0][0])


async def test_fifty_concurrent_bets_with_credit_for_ten_exactly_ten_succeed(client: TestClient, book: Book) -> None:
    # 100 000 cents of credit; 50 bets of 10 000: exactly 10 fit.
    results = await asyncio.gather(*(place(client, book, straight(stake=10_000), key=f"c{i}") for i in range(50)))
    statuses = sorted(s for s, _ in results)
    assert statuses.count(201) == 10, statuses
    assert all(s == 409 for s in statuses if s != 201)
    assert {b["error"] for s, b in results if s == 409} == {"insufficient_credit"}
    assert await sql(book.dsn, "SELECT count(*), sum(stake_cents) FROM bets") == [(10, 100_000)]
    balance, risk = await account(book.dsn)
    assert (balance, risk) == (0, 100_000)
    assert await ledger_sums(book.dsn) == (balance, risk)
    available = sorted(b["available_cents"] for s, b in results if s == 201)
    assert available == list(range(0, 100_000, 10_000))
    assert await chain_verified(book.dsn)


async def test_hundred_concurrent_retries_with_one_key_make_exactly_one_bet(client: TestClient, book: Book) -> None:
    results = await asyncio.gather(*(place(client, book, straight(stake=2500), key="same") for _ in range(100)))
    statuses = [s for s, _ in results]
    assert statuses.count(201) == 1 and statuses.count(200) == 99, sorted(statuses)
    assert len({b["id"] for _, b in results}) == 1
    assert all(b == results[0][1] for _, b in results)
    assert await sql(book.dsn, "SELECT count(*) FROM bets") == [(1,)]
    assert await account(book.dsn) == (0, 2500)
    assert await ledger_sums(book.dsn) == (0, 2500)


async def test_retry_waits_for_the_first_attempt_in_flight_and_replays_it(client: TestClient, book: Book) -> None:
    """Hold the account row so the first attempt is stuck in flight; the retry must wait, then replay it."""
    async with aiopg.connect(book.dsn) as conn, conn.cursor() as cur:
        await cur.execute("BEGIN")
        await cur.execute("SELECT 1 FROM users WHERE id = %s FOR UPDATE", (PLAYER,))
        first = asyncio.ensure_future(place(client, book, straight(), key="inflight"))
        await wait_for(lambda: _waiters_at_least(book, 1), what="first attempt waiting on the account lock")
        retry = asyncio.ensure_future(place(client, book, straight(), key="inflight"))
        await wait_for(lambda: _waiters_at_least(book, 2), what="retry waiting behind it")
        assert not first.done() and not retry.done()
        await cur.execute("COMMIT")
    (s1, b1), (s2, b2) = await asyncio.gather(first, retry)
    assert sorted((s1, s2)) == [200, 201]
    assert b1 == b2
    assert await sql(book.dsn, "SELECT count(*) FROM bets") == [(1,)]


async def _waiters_at_least(book: Book, n: int) -> bool:
    return await _lock_waiters(book.dsn) >= n


async def test_same_key_with_another_body_is_422_and_a_finished_retry_is_200(client: TestClient,
                                                                             book: Book) -> None:
    status, bet = await place(client, book, straight(stake=1000), key="k")
    assert status == 201
    status, again = await place(client, book, straight(stake=1000), key="k")
    assert status == 200 and again == bet
    status, err = await place(client, book, straight(stake=1001), key="k")
    assert (status, err["error"]) == (422, "idempotency_key_reused")
    # Keys are per user: another player may use the same key.
    status, other = await place(client, book, straight(stake=1000), key="k", user=11)
    assert status == 201 and other["id"] != bet["id"]
    assert await sql(book.dsn, "SELECT count(*) FROM bets") == [(2,)]


async def test_bets_are_kept_forever(client: TestClient, book: Book) -> None:
    status, bet = await place(client, book, straight())
    assert status == 201
    for statement in ("DELETE FROM bet_legs", "DELETE FROM bets", "TRUNCATE bets CASCADE", "DELETE FROM bet_requests"):
        async with aiopg.connect(book.dsn) as conn, conn.cursor() as cur:
            try:
                await cur.execute(statement)
            except Exception as exc:  # the trigger refuses it
                assert "kept forever" in str(exc)
            else:
                raise AssertionError(f"{statement} was allowed")
    assert await sql(book.dsn, "SELECT count(*) FROM bets") == [(1,)]
