"""Every malformed or refused bet gets its clear 4xx in the error shape, and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.restapi.betting.conftest import (
    AGENT,
    OTHER_BOOK_PLAYER,
    PLAYER,
    Book,
    account,
    place,
    sel,
    sql,
    straight,
)

TEAMS = [("ev1", "Boston Celtics"), ("ev2", "Miami Heat"), ("live1", "Utah Jazz")]


def _parlay(n: int) -> dict[str, Any]:
    return {"type": "parlay", "stake_cents": 100,
            "selections": [sel(f"ev{i}", "h2h", "Home", 110) for i in range(n)]}


BAD_BODIES: list[tuple[str, Any, int, str, str | None]] = [
    # (case, body, status, error code, field named in details)
    ("stake zero", straight(stake=0), 422, "validation_error", "stake_cents"),
    ("stake negative", straight(stake=-100), 422, "validation_error", "stake_cents"),
    ("stake fractional cents", {**straight(), "stake_cents": 10.5}, 422, "validation_error", "stake_cents"),
    ("stake as float", {**straight(), "stake_cents": 1000.0}, 422, "validation_error", "stake_cents"),
    ("stake as string", {**straight(), "stake_cents": "1000"}, 422, "validation_error", "stake_cents"),
    ("stake boolean", {**straight(), "stake_cents": True}, 422, "validation_error", "stake_cents"),
    ("stake absurd", {**straight(), "stake_cents": 10**30}, 422, "validation_error", "stake_cents"),
    ("stake missing", {"type": "straight", "selections": [sel()]}, 422, "validation_error", "stake_cents"),
    ("unknown type", {**straight(), "type": "teaser"}, 422, "validation_error", "type"),
    ("unknown field", {**straight(), "free": True}, 422, "validation_error", "free"),
    ("no selections", {**straight(), "selections": []}, 422, "validation_error", "selections"),
    ("selections not a list", {**straight(), "selections": "ev1"}, 422, "validation_error", "selections"),
    ("straight with two", {**straight(), "selections": [sel(), sel("ev2", outcome="Miami Heat")]},
     422, "validation_error", "selections"),
    ("price not american", straight(price=50), 422, "validation_error", "selections"),
    ("price fractional", {**straight(), "selections": [{**sel(), "price": -110.5}]}, 422, "validation_error",
     "selections"),
    ("price missing", straight(price=None), 422, "validation_error", "selections"),
    ("unknown market", straight(market="props"), 422, "validation_error", "selections"),
    ("NUL in outcome", straight(outcome="Boston\x00Celtics"), 422, "validation_error", "selections"),
    ("point three decimals", straight(market="spreads", price=-110, point=-5.555), 422, "validation_error",
     "selections"),
    ("point as string", {**straight(), "selections": [{**sel(), "point": "5.5"}]}, 422, "validation_error",
     "selections"),
    ("point of 1e308", straight(market="spreads", price=-110, point=-1.7976931348623157e308), 422,
     "validation_error", "selections"),
    ("book with spaces", straight(book="draft kings"), 422, "validation_error", "selections"),
    ("unknown event", straight(event="nope"), 422, "unknown_selection", None),
    ("unknown outcome", straight(outcome="Boston Bruins"), 422, "unknown_selection", None),
    ("draw in totals", straight(market="totals", outcome="Draw", price=-110, point=2.5), 422, "unknown_selection",
     None),
    ("h2h with a point", straight(point=1.5), 422, "invalid_point", None),
    ("spread without a point", straight(market="spreads", price=-110), 422, "point_required", None),
    ("20-leg parlay", _parlay(20), 422, "parlay_too_long", None),
    ("1-leg parlay", {**straight(), "type": "parlay"}, 422, "parlay_too_short", None),
    ("same market twice", {"type": "parlay", "stake_cents": 100, "selections": [
        sel(), sel(outcome="Los Angeles Lakers", price=130)]}, 422, "duplicate_market", None),
    ("correlated legs", {"type": "parlay", "stake_cents": 100, "selections": [
        sel(), sel(market="totals", outcome="Over", price=-110, point=221.5)]}, 422, "correlated_selections", None),
    ("stake below minimum", straight(stake=99), 422, "stake_too_low", None),
    ("stake above house max", straight(stake=1_000_001), 422, "stake_too_high", None),
    ("payout above max", {"type": "parlay", "stake_cents": 1_000_000, "selections": [
        sel("ev1", outcome="Los Angeles Lakers", price=130), sel("ev2", outcome="Chicago Bulls", price=130),
        sel("ev3", outcome="Chelsea", price=200)]}, 422, "payout_too_high", None),
    ("more than the credit", straight(stake=100_001), 409, "insufficient_credit", None),
]


@pytest.mark.parametrize(("case", "body", "status", "code", "field"), BAD_BODIES, ids=[c[0] for c in BAD_BODIES])
async def test_bad_bet_gets_a_clear_error_and_writes_nothing(client: TestClient, book: Book, case: str, body: Any,
                                                             status: int, code: str, field: str | None) -> None:
    got, err = await place(client, book, body)
    assert (got, err["error"]) == (status, code), err
    assert set(err) == {"error", "message", "details"} and err["message"]
    if field:
        assert field in err["details"], err
    assert await sql(book.dsn, "SELECT count(*) FROM bets") == [(0,)]
    assert await sql(book.dsn, "SELECT count(*) FROM bet_requests") == [(0,)]
    assert await account(book.dsn) == (0, 0)


@pytest.mark.parametrize("raw", [b"", b"{", b"[1, 2]", b'"text"', b"null", b"\xff\xfe"])
async def test_body_that_is_not_a_json_object_is_4xx(client: TestClient, book: Book, raw: bytes) -> None:
    resp = await client.post("/api/v1/betting/bets", data=raw, headers={
        **book.auth(), "Idempotency-Key": "k1", "Content-Type": "application/json"})
    err = await resp.json()
    assert 400 <= resp.status < 500 and set(err) == {"error", "message", "details"}, err


async def test_closed_market_started_and_finished_events_are_409(client: TestClient, book: Book) -> None:
    await sql(book.dsn, "UPDATE markets SET is_open = false WHERE event_id = 'ev1' AND market = 'h2h'")
    status, err = await place(client, book, straight())
    assert (status, err["error"], err["details"]["selection"]) == (409, "market_closed", 0)
    status, err = await place(client, book, straight(event="live1", market="spreads", outcome="Utah Jazz",
                                                     price=-110, point=5.5))
    assert (status, err["error"]) == (409, "event_started")
    await sql(book.dsn, "UPDATE events SET status = 'final', home_score = 1, away_score = 0, completed_at = now() "
                        "WHERE id = 'ev3'")
    status, err = await place(client, book, straight(event="ev3", outcome="Arsenal", price=150))
    assert (status, err["error"]) == (409, "event_over")
    # A game long past its start with no score awaits its result: not bettable, though ingest left
    # its market open in this catalog.
    await sql(book.dsn, "UPDATE events SET status = 'awaiting' WHERE id = 'ev2'")
    status, err = await place(client, book, straight(event="ev2", outcome="Miami Heat"))
    assert (status, err["error"]) == (409, "event_awaiting_result") and "awaits its result" in err["message"]


async def test_player_and_sport_limits_apply(client: TestClient, book: Book) -> None:
    await sql(book.dsn, "UPDATE users SET max_wager_cents = 5000, min_wager_cents = 500 WHERE id = %s", (PLAYER,))
    status, err = await place(client, book, straight(stake=400))
    assert (status, err["error"], err["details"]["min_stake_cents"]) == (422, "stake_too_low", 500)
    status, err = await place(client, book, straight(stake=5001))
    assert (status, err["error"], err["details"]["limit"]) == (422, "stake_too_high", "player")
    await sql(book.dsn, "INSERT INTO player_sport_limits VALUES (%s, 'basketball_nba', 2000)", (PLAYER,))
    status, err = await place(client, book, straight(stake=2001))
    assert (status, err["details"]["limit"], err["details"]["max_stake_cents"]) == (
        422, "sport:basketball_nba", 2000)
    await sql(book.dsn, "INSERT INTO player_sport_limits VALUES (%s, 'soccer', 1000)", (PLAYER,))
    status, err = await place(client, book, straight(stake=1500, event="ev3", outcome="Arsenal", price=150))
    assert (status, err["details"]["limit"]) == (422, "sport:soccer")
    status, bet = await place(client, book, straight(stake=2000))
    assert status == 201


async def test_idempotency_key_is_required_and_checked(client: TestClient, book: Book) -> None:
    resp = await client.post("/api/v1/betting/bets", json=straight(), headers=book.auth())
    assert (resp.status, (await resp.json())["error"]) == (400, "idempotency_key_required")
    for bad in ("", "x" * 101, "has space", "ünï"):
        resp = await client.post("/api/v1/betting/bets", json=straight(),
                                 headers={**book.auth(), "Idempotency-Key": bad})
        assert (resp.status, (await resp.json())["error"]) == (400, "invalid_idempotency_key"), bad


async def test_who_may_bet(client: TestClient, book: Book) -> None:
    resp = await client.post("/api/v1/betting/bets", json=straight(), headers={"Idempotency-Key": "k"})
    assert resp.status == 401
    resp = await client.post("/api/v1/betting/bets", json=straight(),
                             headers={**book.auth(AGENT, "agent", None), "Idempotency-Key": "k"})
    assert (resp.status, (await resp.json())["error"]) == (403, "wrong_role")
    await sql(book.dsn, "UPDATE users SET status = 'inactive' WHERE id = %s", (OTHER_BOOK_PLAYER,))
    status, err = await place(client, book, straight(), user=OTHER_BOOK_PLAYER)
    assert (status, err["error"]) == (403, "account_inactive")


async def test_unknown_bet_ids_are_404(client: TestClient, book: Book) -> None:
    for path in ("/api/v1/betting/bets/999", "/api/v1/betting/bets/abc", "/api/v1/betting/bets/99999999999999999999"):
        resp = await client.get(path, headers=book.auth())
        assert (resp.status, (await resp.json())["error"]) == (404, "bet_not_found"), path
