"""Cashier: idempotent credits and debits through the ledger, credit-limit checks, history, summary."""

from __future__ import annotations

import asyncio

import aiopg

from restapi.ledger.verify import verify
from shared.db import create_pool
from tests.restapi.agent.conftest import Book

K = "/api/v1/agent/cashier"


def move(player: int, cents: object, tx: str = "deposit", **extra: object) -> dict[str, object]:
    return {"player_id": player, "amount_cents": cents, "type": tx, "reason": "test", **extra}


async def test_credit_is_idempotent_and_posts_to_the_ledger(book: Book) -> None:
    status, body = await book.post("a", K + "/credit", move(10, 2500), **{"Idempotency-Key": "k1"})
    assert status == 201 and body["transaction"]["balance_after"] == 2500 and not body["replayed"]
    assert body["transaction"]["actor_id"] == 2 and body["transaction"]["kind"] == "deposit"
    status, again = await book.post("a", K + "/credit", move(10, 2500), **{"Idempotency-Key": "k1"})
    assert status == 201 and again["replayed"] and again["transaction"]["id"] == body["transaction"]["id"]
    status, err = await book.post("a", K + "/credit", move(10, 9999), **{"Idempotency-Key": "k1"})
    assert status == 409 and err["error"] == "idempotency_key_reused"
    status, err = await book.post("a", K + "/credit", move(10, 100))
    assert status == 400 and err["error"] == "idempotency_key_required"
    assert await book.sql("SELECT balance_cents, ledger_seq FROM users WHERE id = 10") == [(2500, 1)]


async def test_concurrent_retries_of_one_key_post_once(book: Book) -> None:
    results = await asyncio.gather(*(book.post("a", K + "/credit", move(11, 700), **{"Idempotency-Key": "same"})
                                     for _ in range(10)))
    assert {s for s, _ in results} == {201}
    assert len({b["transaction"]["id"] for _, b in results}) == 1
    assert await book.sql("SELECT balance_cents FROM users WHERE id = 11") == [(700,)]


async def test_debit_stops_at_the_credit_limit_unless_overridden_and_logged(book: Book) -> None:
    status, err = await book.post("a", K + "/debit", move(11, 20001, "withdrawal"), **{"Idempotency-Key": "d1"})
    assert status == 409 and err["error"] == "insufficient_credit" and err["details"]["available_cents"] == 20000
    assert err["message"] == "Not enough available credit: available credit $200.00, this needs $200.01"
    status, body = await book.post("a", K + "/debit", move(11, 20000, "withdrawal"), **{"Idempotency-Key": "d2"})
    assert status == 201 and body["transaction"]["balance_after"] == -20000
    status, body = await book.post("a", K + "/debit", move(11, 500, "adjustment", override=True),
                                   **{"Idempotency-Key": "d3"})
    assert status == 201 and body["transaction"]["override"] and body["transaction"]["balance_after"] == -20500
    rows = await book.sql("SELECT actor_id, action, after ->> 'reason' FROM audit_log WHERE target_id = 11")
    assert rows == [(2, "cashier.override", "test")]


async def test_cashier_bad_input_and_scope(book: Book) -> None:
    for body, code in [(move(10, 0), 422), (move(10, -5), 422), (move(10, 1.5), 422), (move(10, "10"), 422),
                       (move(10, 100, "bet_win"), 422), (move(10, 100, "withdrawal"), 422),
                       (move(10, 100, override=True), 422), (move(999, 100), 404), (move(20, 100), 404)]:
        status, err = await book.post("a", K + "/credit", body, **{"Idempotency-Key": f"bad-{body}"})
        assert status == code and "error" in err, (body, err)
    status, err = await book.post("b", K + "/debit", move(10, 100, "withdrawal"), **{"Idempotency-Key": "x"})
    assert status == 404 and err["error"] == "customer_not_found"
    await book.sql("UPDATE users SET status = 'inactive' WHERE id = 10")
    status, err = await book.post("a", K + "/credit", move(10, 100), **{"Idempotency-Key": "inactive"})
    assert status == 409 and err["error"] == "account_inactive"
    status, err = await book.get("b", K + "/transactions", params={"player_id": "10"})
    assert status == 404
    status, err = await book.get("b", K + "/summary", params={"player_id": "10"})
    assert status == 404
    status, err = await book.get("a", K + "/transactions", params={"from": "2026-02-01", "to": "2026-01-01"})
    assert status == 422 and "to" in err["details"]
    status, err = await book.get("a", K + "/summary", params={"from": "2024-01-01", "to": "2026-01-01"})
    assert status == 422
    status, err = await book.get("a", K + "/summary", params={"from": "yesterday"})
    assert status == 422


async def test_balances_transactions_and_summary(book: Book) -> None:
    await book.post("a", K + "/credit", move(10, 5000), **{"Idempotency-Key": "1"})
    await book.post("a", K + "/debit", move(10, 1000, "withdrawal"), **{"Idempotency-Key": "2"})
    await book.post("a", K + "/credit", move(12, 300, "free_play"), **{"Idempotency-Key": "3"})
    await book.post("b", K + "/credit", move(20, 800), **{"Idempotency-Key": "4"})
    status, body = await book.get("a", K + "/balances")
    assert status == 200
    assert [(i["player_id"], i["balance_cents"], i["available_cents"]) for i in body["items"]] == [
        (10, 4000, 54000), (11, 0, 20000), (12, 300, 10300)]
    status, body = await book.get("a", K + "/transactions")
    assert [(t["player_id"], t["type"], t["amount_cents"]) for t in body["items"]] == [
        (12, "free_play", 300), (10, "withdrawal", -1000), (10, "deposit", 5000)]
    status, body = await book.get("a", K + "/transactions", params={"type": "deposit", "limit": "1"})
    assert [t["amount_cents"] for t in body["items"]] == [5000] and body["next_cursor"] is None
    status, page1 = await book.get("a", K + "/transactions", params={"limit": "2"})
    status, page2 = await book.get("a", K + "/transactions", params={"limit": "2", "cursor": page1["next_cursor"]})
    assert [t["amount_cents"] for t in page2["items"]] == [5000]
    status, body = await book.get("a", K + "/summary")
    assert status == 200
    assert body["totals"]["deposits_cents"] == 5000 and body["totals"]["withdrawals_cents"] == 1000
    assert body["totals"]["net_cents"] == 4000 and body["totals"]["adjustments_cents"] == 300
    status, body = await book.get("a", K + "/summary", params={"group": "week"})
    assert status == 200 and len(body["periods"]) == 1


async def test_fifty_concurrent_cashier_moves_reconcile(book: Book) -> None:
    """50 concurrent credits and debits on one account: balance = ledger sum, chain verifies."""
    calls = [book.post("a", K + ("/credit" if i % 2 else "/debit"),
                       move(11, 1500 if i % 2 else 1700, "deposit" if i % 2 else "withdrawal"),
                       **{"Idempotency-Key": f"c{i}"}) for i in range(50)]
    results = await asyncio.gather(*calls)
    assert {s for s, _ in results} <= {201, 409}
    posted = [b["transaction"]["amount_cents"] for s, b in results if s == 201]
    (balance, seq), = await book.sql("SELECT balance_cents, ledger_seq FROM users WHERE id = 11")
    (total,), = await book.sql("SELECT sum(amount_cents) FROM ledger_entries WHERE account_id = 11")
    assert balance == total == sum(posted) and seq == len(posted) and balance >= -20000
    pool = await create_pool(book.dsn, 1, 2)
    try:
        assert (await verify(pool)).ok
    finally:
        pool.close()
        await pool.wait_closed()


async def test_transactions_hide_entries_that_move_no_money_unless_asked(book: Book) -> None:
    from restapi import ledger

    await book.post("a", K + "/credit", move(10, 5000), **{"Idempotency-Key": "z1"})
    async with aiopg.connect(book.dsn) as conn, conn.cursor() as cur, cur.begin():
        await ledger.post(cur, account_id=10, amount_cents=0, risk_cents=700, kind="bet_risk", ref_type="bet",
                          ref_id="z", at=book.now)
    status, body = await book.get("a", K + "/transactions")
    assert status == 200 and [t["type"] for t in body["items"]] == ["deposit"]
    status, body = await book.get("a", K + "/transactions", params={"include_zero": "true"})
    assert [t["type"] for t in body["items"]] == ["bet_risk", "deposit"]
