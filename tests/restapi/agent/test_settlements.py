"""Weekly settlements: idempotent closing, payments, listing states, compliance, reminders over SMTP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import aiopg
import redis.asyncio as aioredis

from restapi import ledger
from restapi.agent import settlements
from restapi.agent.cycles import Schedule
from restapi.config import RestSettings
from shared import streams
from shared.config import load
from shared.db import create_pool
from tests.helpers import Inbox, wait_for
from tests.restapi.agent.conftest import Book

S = "/api/v1/agent/settlements"
WEEK_END = datetime(2026, 10, 6, tzinfo=UTC)  # a Tuesday close, weeks before any run of this test
NOW = WEEK_END + timedelta(hours=1)


async def _post(dsn: str, account: int, amount: int, kind: str, at: datetime, risk: int = 0) -> None:
    async with aiopg.connect(dsn) as conn, conn.cursor() as cur, cur.begin():
        await ledger.post(cur, account_id=account, amount_cents=amount, risk_cents=risk, kind=kind,
                          ref_type="bet", ref_id="b", at=at, override=True)


async def _week_of_bets(dsn: str) -> None:
    """alice loses 300 net, bob wins 450, zed (agent B) loses 100; one entry falls outside the week."""
    in_week = WEEK_END - timedelta(days=2)
    await _post(dsn, 10, 0, "bet_risk", in_week, risk=500)
    await _post(dsn, 10, -500, "bet_loss", in_week, risk=-500)
    await _post(dsn, 10, 200, "free_play", in_week)
    await _post(dsn, 11, 450, "bet_win", in_week)
    await _post(dsn, 11, 10_000, "deposit", in_week)  # deposits are not part of the figure
    await _post(dsn, 11, 999, "bet_win", WEEK_END)  # belongs to the next week
    await _post(dsn, 20, -100, "bet_loss", in_week)


async def test_closing_a_week_twice_or_concurrently_creates_nothing_twice(book: Book) -> None:
    await _week_of_bets(book.dsn)
    pools = [await create_pool(book.dsn, 1, 3) for _ in range(3)]
    try:
        results = await asyncio.gather(*(settlements.close_due_weeks(p, NOW) for p in pools))
        assert sorted(len(r) for r in results)[-1] >= 1
        assert sum(len(r) for r in results) == 3  # one cycle per agent (a, a2, b)
        assert await settlements.close_due_weeks(pools[0], NOW) == []
        assert await settlements.close_week(pools[0], 2, WEEK_END, Schedule()) is None
    finally:
        for p in pools:
            p.close()
            await p.wait_closed()
    rows = await book.sql("SELECT c.agent_id, s.player_id, s.figure_cents, s.status FROM settlements s "
                          "JOIN settlement_cycles c ON c.id = s.cycle_id ORDER BY s.player_id")
    assert rows == [(2, 10, -300, "pending"), (2, 11, 450, "pending"), (4, 20, -100, "pending")]
    assert await book.sql("SELECT count(*) FROM settlement_cycles") == [(3,)]


async def test_payments_partial_then_settled_and_scoped(book: Book) -> None:
    book.now = NOW  # the server judges due dates at the same instant the week was closed
    await _week_of_bets(book.dsn)
    pool = await create_pool(book.dsn, 1, 2)
    try:
        await settlements.close_due_weeks(pool, NOW)
    finally:
        pool.close()
        await pool.wait_closed()
    ((alice_sid,),) = await book.sql("SELECT id FROM settlements WHERE player_id = 10")
    ((zed_sid,),) = await book.sql("SELECT id FROM settlements WHERE player_id = 20")
    (balance_before,), = await book.sql("SELECT balance_cents FROM users WHERE id = 10")
    status, body = await book.post("a", f"{S}/{alice_sid}/payments", {"amount_cents": 100, "method": "cash"},
                                   **{"Idempotency-Key": "pay-1"})
    assert status == 201 and body["settlement"]["status"] == "partial" and body["settlement"]["remaining_cents"] == 200
    retries = await asyncio.gather(*(book.post("a", f"{S}/{alice_sid}/payments", {"amount_cents": 100,
                                                                                 "method": "cash"},
                                               **{"Idempotency-Key": "pay-1"}) for _ in range(3)))
    assert all(s == 201 and b["replayed"] and b["payment"]["id"] == body["payment"]["id"] for s, b in retries)
    status, body = await book.post("a", f"{S}/{alice_sid}/payments", {"amount_cents": 201, "method": "card"})
    assert status == 422 and body["details"]["remaining_cents"] == 200
    status, body = await book.post("a", f"{S}/{alice_sid}/payments",
                                   {"amount_cents": 200, "method": "crypto", "reference": "tx 0xabc"})
    assert status == 201 and body["settlement"]["status"] == "settled"
    status, body = await book.post("a", f"{S}/{alice_sid}/payments", {"amount_cents": 1, "method": "cash"})
    assert status == 409 and body["error"] == "already_settled"
    (balance_after,), = await book.sql("SELECT balance_cents FROM users WHERE id = 10")
    assert balance_after == balance_before + 300  # the player paid what they lost
    kinds = await book.sql("SELECT kind, amount_cents FROM ledger_entries WHERE ref_type = 'settlement'")
    assert kinds == [("settlement", 100), ("settlement", 200)]
    for payload in ({"amount_cents": 0, "method": "cash"}, {"amount_cents": 5, "method": "cheque"},
                    {"amount_cents": 5, "method": "other"}, {"amount_cents": 1.5, "method": "cash"}):
        status, body = await book.post("b", f"{S}/{zed_sid}/payments", payload)
        assert status == 422, payload
    status, body = await book.post("b", f"{S}/{alice_sid}/payments", {"amount_cents": 1, "method": "cash"})
    assert status == 404 and body["error"] == "settlement_not_found"
    status, body = await book.post("a", f"{S}/{zed_sid}/payments", {"amount_cents": 1, "method": "cash"})
    assert status == 404
    status, body = await book.post("a", f"{S}/nope/payments", {"amount_cents": 1, "method": "cash"})
    assert status == 404

    book.now = WEEK_END + timedelta(days=3)  # a day past the due date
    status, body = await book.get("a", S, params={"week": "2026-10-02"})
    assert status == 200
    states = {i["player_id"]: (i["state"], i["direction"], len(i["payments"])) for i in body["items"]}
    assert states[10] == ("settled", "player_pays", 2)
    assert states[11][0] == "overdue" and states[11][1] == "book_pays"  # due 2 days after the close
    assert 20 not in states
    status, body = await book.get("b", S, params={"status": "overdue"})
    assert [i["player_id"] for i in body["items"]] == [20] and body["items"][0]["days_overdue"] >= 1
    status, body = await book.get("a", S + "/compliance")
    assert status == 200
    agent_a = next(a for a in body["agents"] if a["agent_id"] == 2)
    assert agent_a["settlements"] == 2 and agent_a["overdue"] == 1 and agent_a["completion_rate"] == 0.5
    assert [o["player_id"] for o in body["overdue"]] == [11]
    status, body = await book.get("a", S, params={"week": "someday"})
    assert status == 422


async def test_reminders_go_by_smtp_and_push_once_per_cycle(book: Book, base_env: dict[str, str],
                                                             smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    settings = load(RestSettings, {**base_env, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port)})
    await _week_of_bets(book.dsn)
    pool = await create_pool(book.dsn, 1, 2)
    redis = aioredis.Redis.from_url(book.redis_url)
    try:
        await settlements.close_due_weeks(pool, NOW)
        before_close = WEEK_END + timedelta(days=7) - timedelta(hours=3)
        assert await settlements.send_due_reminders(pool, redis, settings, NOW) == []  # too early
        sent = await settlements.send_due_reminders(pool, redis, settings, before_close)
        again = await asyncio.gather(*(settlements.send_due_reminders(pool, redis, settings, before_close)
                                       for _ in range(3)))
        assert sorted(sent) == [2, 3, 4] and again == [[], [], []]
        await wait_for(lambda: len(inbox.messages) == 3, what="three reminder mails")
        entries = [streams.decode_notify(f) for _i, f in await redis.xrange(streams.NOTIFY)]
    finally:
        await redis.aclose()
        pool.close()
        await pool.wait_closed()
    to_a = next(m for m in inbox.messages if m["To"] == "agenta@x.test")
    assert "2 settlement(s) open" in to_a["Subject"]
    assert "Open settlements from earlier weeks: 2 (2 overdue)" in to_a.get_payload(decode=True).decode()
    reminders = [(e["user"], e["data"]["open"]) for e in entries if e["kind"] == "settlement.reminder"]
    assert sorted(reminders) == [(2, 2), (3, 0), (4, 1)]


async def test_jobs_catch_up_on_weeks_missed_while_down(book: Book) -> None:
    await _week_of_bets(book.dsn)
    pool = await create_pool(book.dsn, 1, 2)
    try:
        await settlements.close_due_weeks(pool, NOW)
        later = NOW + timedelta(days=21)
        closed = await settlements.close_due_weeks(pool, later)
        assert len(closed) == 9  # three agents, three missed weeks each
        ends = await book.sql("SELECT week_end FROM settlement_cycles WHERE agent_id = 2 ORDER BY 1")
        assert [e for (e,) in ends] == [WEEK_END + timedelta(days=7 * k) for k in range(4)]
        rows = await book.sql("SELECT s.figure_cents FROM settlements s JOIN settlement_cycles c "
                              "ON c.id = s.cycle_id WHERE c.week_end = %(end)s AND s.player_id = 11",
                              {"end": WEEK_END + timedelta(days=7)})
        assert rows == [(999,)]  # the win posted at the first close landed in the following week
    finally:
        pool.close()
        await pool.wait_closed()
