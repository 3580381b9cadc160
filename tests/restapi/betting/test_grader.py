"""Grading from the results stream in the jobs process: settlement, ledger, idempotence, claiming, regrade."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from restapi.betting import settlement
from restapi.betting.grader import GROUP, Grader
from restapi.config import RestSettings
from restapi.jobs import runner
from shared import streams
from shared.db import create_pool
from tests.helpers import scaled, wait_for
from tests.restapi.betting.conftest import (
    ADMIN,
    AGENT,
    OTHER_AGENT,
    Book,
    account,
    chain_verified,
    finished,
    ledger_sums,
    place,
    sel,
    set_price,
    sql,
    straight,
)


@asynccontextmanager
async def jobs(settings: RestSettings) -> AsyncIterator[None]:
    """The jobs process's runner with its registered jobs, in this event loop."""
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(replace(settings, jobs_port=0), stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, scaled(10))


async def publish(redis: aioredis.Redis, event: str, status: str = "final", home: int | None = None,
                  away: int | None = None, sport: str = "basketball_nba") -> str:
    """XADD a result as ingest does; returns the entry id."""
    entry_id = await redis.xadd(streams.RESULTS, streams.encode_result(event, sport, status, home, away))
    return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)


async def all_acked(redis: aioredis.Redis, last_id: str) -> bool:
    """Has the grader group been delivered ``last_id`` and acknowledged everything?"""
    groups = await redis.xinfo_groups(streams.RESULTS)
    for g in groups:
        name = g["name"].decode() if isinstance(g["name"], bytes) else g["name"]
        if name == GROUP:
            last = g["last-delivered-id"]
            last = last.decode() if isinstance(last, bytes) else last
            return bool(last == last_id and g["pending"] == 0)
    return False


async def statuses(book: Book) -> dict[int, tuple[str, int | None]]:
    rows = await sql(book.dsn, "SELECT id, status, payout_cents FROM bets")
    return {r[0]: (r[1], r[2]) for r in rows}


async def _ledger_ok(book: Book) -> None:
    balance, risk = await account(book.dsn)
    assert await ledger_sums(book.dsn) == (balance, risk)
    assert await chain_verified(book.dsn)


async def test_results_settle_straights_and_parlays_with_ledger_entries(
        client: TestClient, book: Book, settings: RestSettings, redis: aioredis.Redis) -> None:
    await set_price(book.dsn, "ev1", "draftkings", "spreads", "Boston Celtics", -110, -6.0)
    bets: dict[str, Any] = {}
    for name, body in {
        "win": straight(stake=1000, outcome="Boston Celtics", price=-150),
        "loss": straight(stake=1300, outcome="Los Angeles Lakers", price=130),
        "push": straight(stake=1100, market="spreads", outcome="Boston Celtics", price=-110, point=-6.0),
        "over": straight(stake=1100, market="totals", outcome="Over", price=-110, point=221.5),
        "parlay": {"type": "parlay", "stake_cents": 1000, "selections": [
            sel("ev1", "h2h", "Boston Celtics", -150), sel("ev2", "h2h", "Miami Heat", -150)]},
    }.items():
        status, bets[name] = await place(client, book, body, key=name)
        assert status == 201, bets[name]
    assert await account(book.dsn) == (0, 5500)

    async with jobs(settings):
        last = await publish(redis, "ev1", "final", 112, 106)  # Celtics by 6, total 218
        await wait_for(lambda: all_acked(redis, last), what="ev1 graded")
        got = await statuses(book)
        assert got[bets["win"]["id"]] == ("won", 1666)
        assert got[bets["loss"]["id"]] == ("lost", 0)
        assert got[bets["push"]["id"]] == ("push", 1100)
        assert got[bets["over"]["id"]] == ("lost", 0)
        assert got[bets["parlay"]["id"]] == ("open", None)  # its ev2 leg is still pending
        # win +666, losses -1300 -1100; still held: the parlay's 1000
        assert await account(book.dsn) == (666 - 1300 - 1100, 1000)

        last = await publish(redis, "ev2", "cancelled")
        await wait_for(lambda: all_acked(redis, last), what="ev2 graded")
        # The void leg drops out: the parlay pays as a single at -150.
        assert (await statuses(book))[bets["parlay"]["id"]] == ("won", 1666)
        assert await account(book.dsn) == (666 - 1300 - 1100 + 666, 0)
    legs = await sql(book.dsn, "SELECT result FROM bet_legs WHERE bet_id = %s ORDER BY leg_no",
                     (bets["parlay"]["id"],))
    assert legs == [("won",), ("void",)]
    kinds = await sql(book.dsn, "SELECT kind, count(*) FROM ledger_entries GROUP BY kind ORDER BY kind")
    assert kinds == [("bet_loss", 2), ("bet_release", 1), ("bet_risk", 5), ("bet_win", 2)]
    await _ledger_ok(book)
    notes = [streams.decode_notify(f) for _i, f in await redis.xrange(streams.NOTIFY)]
    graded = [n["data"] for n in notes if n["kind"] == "bet.graded"]
    assert sorted(n["bet_id"] for n in graded) == sorted(b["id"] for b in bets.values())

    resp = await client.get(f"/api/v1/betting/bets/{bets['parlay']['id']}", headers=book.auth())
    body = await resp.json()
    assert body["status"] == "won" and body["payout_cents"] == 1666 and body["settled_at"]
    assert [leg["result"] for leg in body["legs"]] == ["won", "void"]


async def test_grading_twice_pays_once(client: TestClient, book: Book, settings: RestSettings,
                                       redis: aioredis.Redis) -> None:
    status, bet = await place(client, book, straight(stake=1000, outcome="Los Angeles Lakers", price=130))
    assert status == 201
    async with jobs(settings):
        await publish(redis, "ev1", "final", 99, 101)
        last = await publish(redis, "ev1", "final", 99, 101)  # re-delivered by ingest
        await wait_for(lambda: all_acked(redis, last), what="both entries graded")
    pool = await create_pool(book.dsn)
    try:
        again = await settlement.grade_event(pool, redis, "ev1", "final", 99, 101)  # and once more, directly
    finally:
        pool.close()
        await pool.wait_closed()
    assert again == []
    assert (await statuses(book))[bet["id"]] == ("won", 2300)
    assert await account(book.dsn) == (1300, 0)
    assert await sql(book.dsn, "SELECT count(*) FROM ledger_entries WHERE kind = 'bet_win'") == [(1,)]
    await _ledger_ok(book)


async def test_entry_left_by_a_dead_consumer_is_claimed_and_graded(
        client: TestClient, book: Book, settings: RestSettings, redis: aioredis.Redis) -> None:
    status, bet = await place(client, book, straight())
    await redis.xgroup_create(streams.RESULTS, GROUP, id="0", mkstream=True)
    last = await publish(redis, "ev1", "final", 120, 100)
    taken = await redis.xreadgroup(GROUP, "dead-worker", {streams.RESULTS: ">"}, count=10)
    assert taken and len(taken[0][1]) == 1  # delivered to a worker that never acknowledges it
    async with jobs(replace(settings, grader_claim_idle=1.0, grader_block_ms=200)):
        await wait_for(lambda: all_acked(redis, last), what="the stale entry claimed and graded")
    assert (await statuses(book))[bet["id"]] == ("won", 1666)


async def test_malformed_entries_are_dropped_and_the_grader_goes_on(
        client: TestClient, book: Book, settings: RestSettings, redis: aioredis.Redis) -> None:
    status, bet = await place(client, book, straight())
    await redis.xadd(streams.RESULTS, {"v": "1", "junk": "x"})
    await redis.xadd(streams.RESULTS, {**streams.encode_result("ev1", "basketball_nba", "final", 1, 0),
                                       "home": b"not-a-number"})
    last = await publish(redis, "ev1", "final", 120, 100)
    async with jobs(settings):
        await wait_for(lambda: all_acked(redis, last), what="all entries handled")
    assert (await statuses(book))[bet["id"]] == ("won", 1666)


async def test_sweep_grades_events_already_final_without_a_stream_entry(
        client: TestClient, book: Book, settings: RestSettings, redis: aioredis.Redis) -> None:
    status, bet = await place(client, book, straight())
    await sql(book.dsn, "UPDATE events SET status = 'final', home_score = 90, away_score = 95, "
                        "completed_at = now() WHERE id = 'ev1'")
    async with jobs(settings):
        await wait_for(lambda: _status_is(book, bet["id"], "lost"), what="the sweep grading ev1")
    assert await account(book.dsn) == (-1000, 0)


async def test_bets_on_a_game_never_played_are_void_after_the_house_limit(
        client: TestClient, book: Book, settings: RestSettings, redis: aioredis.Redis) -> None:
    status, lapsed = await place(client, book, straight(stake=1000), key="lapsed")
    status, parlay = await place(client, book, {"type": "parlay", "stake_cents": 500, "selections": [
        sel("ev1", "h2h", "Boston Celtics", -150), sel("ev2", "h2h", "Miami Heat", -150)]}, key="parlay")
    status, recent = await place(client, book, straight(stake=700, event="ev2", outcome="Miami Heat"), key="recent")
    assert status == 201
    # ev1 was due to start 49 hours ago and never got a result (postponed; the feed said nothing);
    # ev2 started 47 hours ago: still inside the 48-hour limit.
    await sql(book.dsn, "UPDATE bet_legs SET commence_time = now() - interval '49 hours' WHERE event_id = 'ev1'")
    await sql(book.dsn, "UPDATE bet_legs SET commence_time = now() - interval '47 hours' WHERE event_id = 'ev2'")
    async with jobs(settings):
        await wait_for(lambda: _status_is(book, lapsed["id"], "void"), what="the sweep voiding ev1")
    got = await statuses(book)
    assert got[lapsed["id"]] == ("void", 1000) and got[recent["id"]] == ("open", None)
    assert got[parlay["id"]] == ("open", None)  # its ev1 leg is void, its ev2 leg still pending
    legs = await sql(book.dsn, "SELECT event_id, result FROM bet_legs WHERE bet_id = %s ORDER BY leg_no",
                     (parlay["id"],))
    assert legs == [("ev1", "void"), ("ev2", "pending")]
    assert await account(book.dsn) == (0, 500 + 700)  # the void straight's stake is released
    # The catalog agrees with the bets: ev1 is cancelled and closed, ev2 is untouched.
    events = await sql(book.dsn, "SELECT e.id, e.status, bool_or(m.is_open) FROM events e "
                                 "JOIN markets m ON m.event_id = e.id GROUP BY e.id, e.status ORDER BY e.id")
    assert [(e, s, o) for e, s, o in events if e in ("ev1", "ev2")] == [("ev1", "cancelled", False),
                                                                         ("ev2", "upcoming", True)]
    await _ledger_ok(book)
    notes = [streams.decode_notify(f) for _i, f in await redis.xrange(streams.NOTIFY)]
    assert any(n["kind"] == "bet.graded" and n["data"]["bet_id"] == lapsed["id"] for n in notes)


async def _status_is(book: Book, bet_id: int, status: str) -> bool:
    return (await statuses(book))[bet_id][0] == status


def test_the_grader_is_registered_in_the_jobs_process() -> None:
    assert Grader in runner.JOBS


async def test_regrade_reverses_and_resettles_with_an_audit_row(
        client: TestClient, book: Book, redis: aioredis.Redis) -> None:
    status, bet = await place(client, book, straight(stake=1000, outcome="Boston Celtics", price=-150))
    pool = await create_pool(book.dsn)
    try:
        await settlement.grade_event(pool, redis, "ev1", "final", 110, 100)
    finally:
        pool.close()
        await pool.wait_closed()
    await finished(book, "ev1", 110, 100)
    assert await account(book.dsn) == (666, 0)
    url = f"/api/v1/betting/bets/{bet['id']}/regrade"
    body = {"reason": "Score corrected: 100-110", "legs": [{"leg_no": 1, "result": "lost"}]}

    resp = await client.post(url, json=body, headers=book.auth())
    assert resp.status == 403  # players cannot
    resp = await client.post(url, json=body, headers=book.auth(OTHER_AGENT, "agent", None))
    assert resp.status == 404  # not this agent's player
    resp = await client.post(url, json={**body, "legs": [{"leg_no": 2, "result": "lost"}]},
                             headers=book.auth(AGENT, "agent", None))
    assert (resp.status, (await resp.json())["error"]) == (422, "unknown_leg")
    resp = await client.post(url, json={"legs": body["legs"]}, headers=book.auth(AGENT, "agent", None))
    assert resp.status == 422  # a reason is required

    resp = await client.post(url, json=body, headers=book.auth(AGENT, "agent", None))
    got = await resp.json()
    assert resp.status == 200, got
    assert (got["status"], got["payout_cents"], got["legs"][0]["result"]) == ("lost", 0, "lost")
    assert got["regraded_at"]
    assert await account(book.dsn) == (-1000, 0)
    audit = await sql(book.dsn, "SELECT actor_id, action, target_id, before, after FROM audit_log")
    assert audit == [(AGENT, "bet.regrade", bet["id"],
                      {"status": "won", "payout_cents": 1666, "legs": {"1": "won"}},
                      {"status": "lost", "payout_cents": 0, "legs": {"1": "lost"},
                       "reason": "Score corrected: 100-110"})]
    # An admin sets it back; the same result again changes no money.
    for _ in range(2):
        resp = await client.post(url, json={**body, "legs": [{"leg_no": 1, "result": "won"}]},
                                 headers=book.auth(ADMIN, "admin", None))
        assert resp.status == 200
    assert await account(book.dsn) == (666, 0)
    assert await sql(book.dsn, "SELECT count(*) FROM audit_log") == [(3,)]
    overrides = await sql(book.dsn, "SELECT kind, amount_cents, risk_cents FROM ledger_entries WHERE override "
                                    "ORDER BY seq")
    assert overrides == [("bet_win", -666, 1000), ("bet_loss", 1000, 1000)]
    # Back to pending: the stake is held again and the bet is open.
    resp = await client.post(url, json={**body, "legs": [{"leg_no": 1, "result": "pending"}]},
                             headers=book.auth(ADMIN, "admin", None))
    assert (await resp.json())["status"] == "open"
    assert await account(book.dsn) == (0, 1000)
    await _ledger_ok(book)


async def test_concurrent_graders_settle_each_bet_once(client: TestClient, book: Book,
                                                       redis: aioredis.Redis) -> None:
    """Two graders on one event, and two on the two events of a parlay, at the same time."""
    status, single = await place(client, book, straight(stake=1000, outcome="Boston Celtics", price=-150), key="s")
    status, parlay = await place(client, book, {"type": "parlay", "stake_cents": 1000, "selections": [
        sel("ev1", "h2h", "Boston Celtics", -150), sel("ev2", "h2h", "Miami Heat", -150)]}, key="p")
    pool = await create_pool(book.dsn, 1, 10)
    try:
        await asyncio.gather(
            settlement.grade_event(pool, redis, "ev1", "final", 110, 100),
            settlement.grade_event(pool, redis, "ev1", "final", 110, 100),
            settlement.grade_event(pool, redis, "ev2", "final", 99, 90),
            settlement.grade_event(pool, redis, "ev2", "final", 99, 90),
        )
    finally:
        pool.close()
        await pool.wait_closed()
    got = await statuses(book)
    # 10.00 at -150 returns 16.66; the parlay 10.00 x 5/3 x 5/3 = 27.77
    assert got[single["id"]] == ("won", 1666) and got[parlay["id"]] == ("won", 2777)
    assert await sql(book.dsn, "SELECT count(*) FROM ledger_entries WHERE kind = 'bet_win'") == [(2,)]
    assert await account(book.dsn) == (666 + 1777, 0)
    await _ledger_ok(book)


async def test_a_corrected_score_regrades_every_bet_on_the_event(
        client: TestClient, book: Book, redis: aioredis.Redis) -> None:
    bets: dict[str, Any] = {}
    for name, body in {
        "celtics": straight(stake=1000, outcome="Boston Celtics", price=-150),
        "lakers": straight(stake=1300, outcome="Los Angeles Lakers", price=130),
        "over": straight(stake=1100, market="totals", outcome="Over", price=-110, point=221.5),
        "parlay": {"type": "parlay", "stake_cents": 1000, "selections": [
            sel("ev1", "h2h", "Boston Celtics", -150), sel("ev2", "h2h", "Miami Heat", -150)]},
        "other_event": straight(stake=500, event="ev2", outcome="Miami Heat", price=-150),
    }.items():
        status, bets[name] = await place(client, book, body, key=name)
        assert status == 201, bets[name]
    pool = await create_pool(book.dsn)
    try:
        await settlement.grade_event(pool, redis, "ev1", "final", 112, 106)  # the feed's score: wrong
        await settlement.grade_event(pool, redis, "ev2", "final", 100, 90)
    finally:
        pool.close()
        await pool.wait_closed()
    await finished(book, "ev1", 112, 106)
    before = await statuses(book)
    assert [before[bets[n]["id"]][0] for n in ("celtics", "lakers", "over", "parlay")] == ["won", "lost", "lost", "won"]
    url = "/api/v1/betting/events/ev1/regrade"
    correction = {"reason": "League correction: Lakers won 110-108", "home_score": 108, "away_score": 110}

    # Bad input, wrong role, someone else's book: refused, nothing changes.
    for body, want in [({**correction, "home_score": None}, 422), ({**correction, "home_score": -1}, 422),
                       ({**correction, "status": "postponed"}, 422), ({"home_score": 1, "away_score": 2}, 422),
                       ({**correction, "home_score": "108"}, 422)]:
        resp = await client.post(url, json=body, headers=book.auth(AGENT, "agent", None))
        assert resp.status == want, (body, await resp.text())
    resp = await client.post(url, json=correction, headers=book.auth())
    assert resp.status == 403
    resp = await client.post("/api/v1/betting/events/nope/regrade", json=correction,
                             headers=book.auth(AGENT, "agent", None))
    assert (resp.status, (await resp.json())["error"]) == (404, "event_not_found")
    resp = await client.post(url, json=correction, headers=book.auth(OTHER_AGENT, "agent", None))
    assert resp.status == 200 and (await resp.json())["bets"] == []  # none of its players bet on it
    assert await statuses(book) == before

    money = []
    for _ in range(2):  # the same correction twice: the second changes no money
        resp = await client.post(url, json=correction, headers=book.auth(AGENT, "agent", None))
        got = await resp.json()
        assert resp.status == 200, got
        money.append(await account(book.dsn))
    assert money[0] == money[1]
    by_id = {b["bet_id"]: (b["status"], b["payout_cents"]) for b in got["bets"]}
    assert by_id == {bets["celtics"]["id"]: ("lost", 0), bets["lakers"]["id"]: ("won", 2990),
                     bets["over"]["id"]: ("lost", 0), bets["parlay"]["id"]: ("lost", 0)}
    assert got["ungradable"] == [] and (got["home_score"], got["away_score"]) == (108, 110)
    after = await statuses(book)
    assert after[bets["other_event"]["id"]] == before[bets["other_event"]["id"]]  # another event: untouched
    # Money: lost 1000 (celtics), won 1690 (lakers), lost 1100 (over), lost 1000 (parlay), won 333 (ev2 single).
    assert await account(book.dsn) == (-1000 + 1690 - 1100 - 1000 + 333, 0)
    await _ledger_ok(book)
    audit = await sql(book.dsn, "SELECT action, count(*) FROM audit_log GROUP BY action ORDER BY action")
    assert audit == [("bet.regrade", 8), ("event.score_correction", 3)]

    resp = await client.post(url, json={"reason": "Game voided by the league", "status": "cancelled"},
                             headers=book.auth(ADMIN, "admin", None))
    got = await resp.json()
    assert resp.status == 200 and {b["status"] for b in got["bets"]} == {"void", "won"}  # the parlay: ev2 alone
    assert await account(book.dsn) == (666 + 333, 0)  # the ev1 singles are void; the parlay pays as a single
    await _ledger_ok(book)
