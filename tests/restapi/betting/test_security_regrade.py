"""Score corrections (issue 13, item 11): only for games that have started, only by an admin or a master
agent for its tree (never a sub-agent), and always audited with the reason."""

from __future__ import annotations

from datetime import timedelta

import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from restapi.betting import settlement
from shared.db import create_pool
from shared.errors import Conflict
from tests.restapi.betting.conftest import ADMIN, AGENT, Book, account, chain_verified, place, sql, straight

SUB_AGENT, SUB_PLAYER = 20, 21
SUB_BOOK = """
INSERT INTO users (id, login, role, agent_id, credit_limit_cents) VALUES
  (20, 'sub1', 'agent', 2, 0),
  (21, 'p21', 'player', 20, 100000)
"""
CORRECTION = {"reason": "League correction: Lakers won 110-108", "home_score": 108, "away_score": 110}
URL = "/api/v1/betting/events/ev1/regrade"


async def _money(book: Book) -> list[tuple[int, int]]:
    return [await account(book.dsn, user) for user in (10, SUB_PLAYER)]


async def test_a_game_that_has_not_started_cannot_be_corrected_by_anyone(client: TestClient, book: Book) -> None:
    await sql(book.dsn, SUB_BOOK)
    status, bet = await place(client, book, straight(stake=1000, outcome="Boston Celtics", price=-150), key="a")
    assert status == 201, bet
    status, sub_bet = await place(client, book, straight(stake=500, outcome="Los Angeles Lakers", price=130),
                                  key="b", user=SUB_PLAYER)
    assert status == 201, sub_bet
    before = await _money(book)
    for who in ((AGENT, "agent", None), (ADMIN, "admin", None)):
        resp = await client.post(URL, json=CORRECTION, headers=book.auth(*who))
        got = await resp.json()
        assert (resp.status, got["error"]) == (409, "event_not_started"), got
        resp = await client.post(f"/api/v1/betting/bets/{bet['id']}/regrade", headers=book.auth(*who),
                                 json={"reason": "Invented score", "legs": [{"leg_no": 1, "result": "won"}]})
        got = await resp.json()
        assert (resp.status, got["error"]) == (409, "event_not_started"), got
        assert got["details"]["legs"] == [{"leg_no": 1, "event_id": "ev1"}]
    # The sub-agent of the issue: refused before anything else is looked at.
    resp = await client.post(URL, json=CORRECTION, headers=book.auth(SUB_AGENT, "agent", AGENT))
    assert (resp.status, (await resp.json())["error"]) == (403, "regrade_not_allowed")
    assert await _money(book) == before
    assert await sql(book.dsn, "SELECT count(*) FROM audit_log") == [(0,)]
    assert await sql(book.dsn, "SELECT status FROM bets ORDER BY id") == [("open",), ("open",)]


async def test_after_the_start_a_master_agent_corrects_its_tree_and_a_sub_agent_is_refused(
        client: TestClient, book: Book) -> None:
    await sql(book.dsn, SUB_BOOK)
    status, sub_bet = await place(client, book, straight(stake=500, outcome="Los Angeles Lakers", price=130),
                                  key="b", user=SUB_PLAYER)
    assert status == 201, sub_bet
    # The game has started (past its start time, no result yet): a correction may now apply.
    await sql(book.dsn, "UPDATE events SET commence_time = now() - interval '2 hours', status = 'live' "
                        "WHERE id = 'ev1'")
    for url, body in ((URL, CORRECTION), (f"/api/v1/betting/bets/{sub_bet['id']}/regrade",
                                          {"reason": "Invented", "legs": [{"leg_no": 1, "result": "won"}]})):
        resp = await client.post(url, json=body, headers=book.auth(SUB_AGENT, "agent", AGENT))
        assert (resp.status, (await resp.json())["error"]) == (403, "regrade_not_allowed")
    assert await account(book.dsn, SUB_PLAYER) == (0, 500)

    resp = await client.post(URL, json=CORRECTION, headers=book.auth(AGENT, "agent", None))
    got = await resp.json()
    assert resp.status == 200, got
    assert got["bets"] == [{"bet_id": sub_bet["id"], "status": "won", "payout_cents": 1150}]  # its sub-agent's player
    assert await account(book.dsn, SUB_PLAYER) == (650, 0)
    audit = await sql(book.dsn, "SELECT actor_id, action, after->>'reason' FROM audit_log ORDER BY id")
    assert audit == [(AGENT, "bet.regrade", CORRECTION["reason"]),
                     (AGENT, "event.score_correction", CORRECTION["reason"])]
    assert await chain_verified(book.dsn)


async def test_the_start_is_judged_at_the_injected_time(book: Book, redis: aioredis.Redis) -> None:
    """``now`` is a parameter: one second before the catalog's start time is refused, the start itself is not."""
    (start,), = await sql(book.dsn, "SELECT commence_time FROM events WHERE id = 'ev1'")
    pool = await create_pool(book.dsn)
    try:
        args = (pool, redis, AGENT, "ev1", "Correction", "final", 108, 110)
        try:
            await settlement.correct_score(*args, now=start - timedelta(seconds=1))
        except Conflict as exc:
            assert exc.code == "event_not_started"
        else:
            raise AssertionError("a correction before the start was accepted")
        got = await settlement.correct_score(*args, now=start)
        assert got["bets"] == [] and got["event_id"] == "ev1"
    finally:
        pool.close()
        await pool.wait_closed()
