"""The slip in Redis (per user, TTL, shared by devices) and the stateless quote."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from restapi.betting.slip import selection_id, slip_key
from tests.restapi.betting.conftest import PLAYER, PLAYER2, Book, sel, set_price, sql

SLIP = "/api/v1/betting/slip"


async def _json(resp: Any) -> tuple[int, Any]:
    return resp.status, (await resp.json() if resp.status != 204 else None)


async def test_add_list_and_remove_selections_with_payouts(client: TestClient, book: Book,
                                                           redis: aioredis.Redis) -> None:
    status, view = await _json(await client.post(f"{SLIP}/selections", headers=book.auth(),
                                                 json={**sel(outcome="Los Angeles Lakers", price=130),
                                                       "stake_cents": 1000}))
    assert status == 201, view
    [one] = view["selections"]
    assert one["id"] == selection_id("ev1", "h2h", "Los Angeles Lakers")
    assert one["current"]["price"] == 130 and not one["moved"] and not one["off_board"] and one["error"] is None
    assert one["payout_cents"] == 2300 and one["event"]["home"] == "Boston Celtics"
    assert view["parlay"]["error"]["code"] == "parlay_too_short"
    assert 0 < view["expires_in"] <= 86400
    assert 0 < await redis.ttl(slip_key(PLAYER)) <= 86400

    await client.post(f"{SLIP}/selections", headers=book.auth(),
                      json=sel("ev2", "spreads", "Miami Heat", -110, -5.5))
    status, view = await _json(await client.post(f"{SLIP}/selections", headers=book.auth(),
                                                  json=sel("ev3", "h2h", "Draw", None, book=None)))
    assert status == 201
    assert [s["outcome"] for s in view["selections"]] == ["Los Angeles Lakers", "Miami Heat", "Draw"]
    draw = view["selections"][2]
    assert (draw["book"], draw["price"]) == ("draftkings", 220)  # price seen = current when not sent
    parlay = view["parlay"]
    assert parlay["legs"] == 3 and parlay["error"] is None
    assert parlay["decimal"] == "14.05" and parlay["american"] == 1305  # 23/10 x 21/11 x 16/5 = 14.0509…
    status, view = await _json(await client.put(SLIP, headers=book.auth(), json={
        "selections": _bodies(view), "parlay_stake_cents": 1000}))
    assert status == 200, view
    assert view["parlay"]["payout_cents"] == 14050 and view["parlay"]["stake_cents"] == 1000

    status, view = await _json(await client.delete(f"{SLIP}/selections/{one['id']}", headers=book.auth()))
    assert status == 200 and len(view["selections"]) == 2
    status, err = await _json(await client.delete(f"{SLIP}/selections/{one['id']}", headers=book.auth()))
    assert (status, err["error"]) == (404, "selection_not_found")
    status, err = await _json(await client.delete(f"{SLIP}/selections/..", headers=book.auth()))
    assert status == 404

    status, _ = await _json(await client.delete(SLIP, headers=book.auth()))
    assert status == 204
    status, view = await _json(await client.get(SLIP, headers=book.auth()))
    assert view["selections"] == [] and view["parlay"]["legs"] == 0


def _bodies(view: dict[str, Any]) -> list[dict[str, Any]]:
    keys = ("event_id", "market", "outcome", "point", "book", "price", "stake_cents")
    return [{k: s[k] for k in keys} for s in view["selections"]]


async def test_slip_flags_moved_and_off_board_selections(client: TestClient, book: Book) -> None:
    await client.put(SLIP, headers=book.auth(), json={"selections": [
        {**sel(), "stake_cents": 1500}, {**sel("ev2", "spreads", "Miami Heat", -110, -5.5), "stake_cents": 1100}]})
    await set_price(book.dsn, "ev1", "draftkings", "h2h", "Boston Celtics", -160)
    await set_price(book.dsn, "ev2", "draftkings", "spreads", "Miami Heat", None)
    status, view = await _json(await client.get(SLIP, headers=book.auth()))
    moved, gone = view["selections"]
    assert (moved["moved"], moved["price"], moved["current"]["price"]) == (True, -150, -160)
    assert moved["payout_cents"] == 2437  # 15.00 at -160 at the current price
    assert gone["off_board"] and gone["current"] is None and gone["payout_cents"] is None
    assert view["parlay"]["error"]["code"] == "leg_unavailable"
    await sql(book.dsn, "UPDATE markets SET is_open = false WHERE event_id = 'ev1' AND market = 'h2h'")
    status, view = await _json(await client.get(SLIP, headers=book.auth()))
    assert view["selections"][0]["error"]["code"] == "market_closed"


async def test_slip_is_per_user_and_shared_by_devices(client: TestClient, book: Book) -> None:
    await client.post(f"{SLIP}/selections", headers=book.auth(), json=sel())
    # A second token (another device) of the same user sees the same slip.
    status, view = await _json(await client.get(SLIP, headers=book.auth()))
    assert len(view["selections"]) == 1
    status, view = await _json(await client.get(SLIP, headers=book.auth(PLAYER2)))
    assert view["selections"] == []


async def test_slip_refuses_what_cannot_be_bet_and_caps_its_size(client: TestClient, book: Book) -> None:
    cases = [
        (sel(event="nope"), 422, "unknown_selection"),
        (sel(outcome="Nobody"), 422, "unknown_selection"),
        (sel("live1", "totals", "Over", -110, 221.5), 409, "event_started"),
        ({**sel(), "stake_cents": 0}, 422, "validation_error"),
        ({**sel(), "extra": 1}, 422, "validation_error"),
    ]
    await set_price(book.dsn, "ev2", "draftkings", "h2h", "Miami Heat", None)
    await set_price(book.dsn, "ev2", "fanduel", "h2h", "Miami Heat", None)
    cases.append((sel("ev2", outcome="Miami Heat", book=None), 409, "off_board"))
    for body, status, code in cases:
        got, err = await _json(await client.post(f"{SLIP}/selections", headers=book.auth(), json=body))
        assert (got, err["error"]) == (status, code), body
    status, err = await _json(await client.put(SLIP, headers=book.auth(), json={"selections": [sel(event="nope")]}))
    assert (status, err["error"], err["details"]["selection"]) == (422, "unknown_selection", 0)
    many = [sel(f"x{i}") for i in range(30)]
    await sql(book.dsn, "INSERT INTO events (id, sport, league, home_team, away_team, commence_time) "
                        "SELECT 'x' || i, 'basketball', 'basketball_nba', 'Boston Celtics', 'Los Angeles Lakers', "
                        "now() + interval '1 day' FROM generate_series(0, 29) i")
    await sql(book.dsn, "INSERT INTO markets (event_id, market) SELECT 'x' || i, 'h2h' FROM generate_series(0, 29) i")
    await sql(book.dsn, "INSERT INTO odds SELECT 'x' || i, 'draftkings', 'h2h', 'Boston Celtics', -150, NULL, now() "
                        "FROM generate_series(0, 29) i")
    status, err = await _json(await client.put(SLIP, headers=book.auth(), json={"selections": many}))
    assert (status, err["error"]) == (422, "slip_full")
    for body in many[:25]:
        status, _ = await _json(await client.post(f"{SLIP}/selections", headers=book.auth(), json=body))
        assert status == 201
    status, err = await _json(await client.post(f"{SLIP}/selections", headers=book.auth(), json=many[25]))
    assert (status, err["error"]) == (409, "slip_full")
    # Replacing one already on the slip is still fine.
    status, _ = await _json(await client.post(f"{SLIP}/selections", headers=book.auth(), json=many[0]))
    assert status == 201


async def test_slip_needs_a_player(client: TestClient, book: Book) -> None:
    assert (await client.get(SLIP)).status == 401
    resp = await client.get(SLIP, headers=book.auth(2, "agent", None))
    assert resp.status == 403


async def test_quote_prices_straights_and_parlay_without_state(client: TestClient, book: Book,
                                                               redis: aioredis.Redis) -> None:
    body = {"selections": [
        {**sel("ev1", "spreads", "Boston Celtics", -110, -5.5), "stake_cents": 1100},
        {**sel("ev3", "h2h", "Arsenal", None, book=None), "stake_cents": 1000}],
        "parlay_stake_cents": 1000}
    status, view = await _json(await client.post("/api/v1/betting/quote", headers=book.auth(), json=body))
    assert status == 200, view
    assert [s["payout_cents"] for s in view["selections"]] == [2100, 2500]
    assert view["parlay"]["payout_cents"] == 4772  # 10.00 x 21/11 x 5/2 = 47.727…
    assert view["parlay"]["american"] == 377 and view["parlay"]["decimal"] == "4.77"
    assert "expires_in" not in view
    assert await redis.exists(slip_key(PLAYER)) == 0
    status, view = await _json(await client.post("/api/v1/betting/quote", headers=book.auth(), json={
        "selections": [sel(), sel(outcome="Los Angeles Lakers", price=130)]}))
    assert view["parlay"]["error"]["code"] == "duplicate_market"
    status, err = await _json(await client.post("/api/v1/betting/quote", headers=book.auth(), json={
        "selections": []}))
    assert (status, err["error"]) == (422, "validation_error")


async def test_betting_routes_are_in_the_openapi_spec(client: TestClient, book: Book) -> None:
    spec = await (await client.get("/docs/openapi.json")).json()
    paths = spec["paths"]
    for path, method in [("/api/v1/betting/bets", "post"), ("/api/v1/betting/bets", "get"),
                         ("/api/v1/betting/slip", "put"), ("/api/v1/betting/quote", "post"),
                         ("/api/v1/betting/bets/{bet_id}/regrade", "post")]:
        assert method in paths[path], (path, method)
    params = paths["/api/v1/betting/bets"]["post"]["parameters"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" and p["required"] for p in params)
