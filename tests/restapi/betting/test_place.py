"""Placing bets: the accepted bet, its ledger entry and notification, price policies, limits, idempotency."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from shared import streams
from tests.restapi.betting.conftest import (
    AGENT,
    PLAYER,
    Book,
    account,
    chain_verified,
    ledger_sums,
    place,
    sel,
    set_price,
    sql,
    straight,
)


async def test_straight_bet_is_booked_with_legs_ledger_entry_and_notification(
        client: TestClient, book: Book, redis: aioredis.Redis) -> None:
    status, bet = await place(client, book, straight(stake=1500, outcome="Los Angeles Lakers", price=130))
    assert status == 201, bet
    assert bet["type"] == "straight" and bet["status"] == "open" and bet["stake_cents"] == 1500
    assert bet["potential_payout_cents"] == 3450  # 15.00 at +130 returns 34.50
    assert bet["available_cents"] == 100000 - 1500
    assert bet["placed_at"] and bet["payout_cents"] is None
    [leg] = bet["legs"]
    assert (leg["event_id"], leg["market"], leg["outcome"], leg["book"], leg["price"], leg["price_seen"]) == (
        "ev1", "h2h", "Los Angeles Lakers", "draftkings", 130, 130)
    assert leg["result"] == "pending" and leg["home_team"] == "Boston Celtics" and leg["league"] == "basketball_nba"

    assert await account(book.dsn) == (0, 1500)
    rows = await sql(book.dsn, "SELECT kind, amount_cents, risk_cents, ref_type, ref_id, meta FROM ledger_entries "
                               "WHERE account_id = %s", (PLAYER,))
    assert rows == [("bet_risk", 0, 1500, "bet", str(bet["id"]),
                     {"sport": "basketball_nba", "bet_type": "straight",
                      "event": "Los Angeles Lakers @ Boston Celtics"})]  # the agent's exposure lists it by event
    assert await sql(book.dsn, "SELECT user_id, agent_id, status, sports FROM bets") == [
        (PLAYER, AGENT, "open", ["basketball", "basketball_nba"])]

    entries = await redis.xrange(streams.NOTIFY)
    [note] = [streams.decode_notify(f) for _i, f in entries]
    assert note["user"] == PLAYER and note["kind"] == "bet.accepted" and note["data"]["bet_id"] == bet["id"]

    resp = await client.get(f"/api/v1/betting/bets/{bet['id']}", headers=book.auth())
    got = await resp.json()
    assert resp.status == 200
    # History also names each leg's book as players know it; everything else is the placement's answer.
    assert all(isinstance(leg.pop("book_title"), str) for leg in got["legs"])
    assert got == {k: v for k, v in bet.items() if k != "available_cents"}


async def test_parlay_pays_the_product_of_decimal_odds(client: TestClient, book: Book) -> None:
    body = {"type": "parlay", "stake_cents": 1000, "selections": [
        sel("ev1", "spreads", "Boston Celtics", -110, -5.5),
        sel("ev2", "totals", "Over", -110, 221.5),
        sel("ev3", "h2h", "Draw", 220)]}
    status, bet = await place(client, book, body)
    assert status == 201, bet
    # 10.00 x 21/11 x 21/11 x 16/5 = 116.628… rounded down once to 116.62
    assert bet["potential_payout_cents"] == 11662
    assert [leg["leg_no"] for leg in bet["legs"]] == [1, 2, 3]
    assert bet["legs"][0]["point"] == -5.5
    rows = await sql(book.dsn, "SELECT meta FROM ledger_entries")
    assert rows == [({"sport": "mixed", "bet_type": "parlay", "event": "Parlay: Los Angeles Lakers @ Boston Celtics"
                      " + Chicago Bulls @ Miami Heat + Chelsea @ Arsenal"},)]


async def test_without_a_book_the_best_price_is_taken_and_recorded(client: TestClient, book: Book) -> None:
    status, bet = await place(client, book, straight(outcome="Boston Celtics", price=-140, book=None))
    assert status == 201, bet
    assert bet["legs"][0]["book"] == "fanduel" and bet["legs"][0]["price"] == -140


async def test_house_book_priority_list_decides_when_configured(aiohttp_client: Any, settings: Any,
                                                                book: Book) -> None:
    from dataclasses import replace

    from restapi.app import create_app

    client = await aiohttp_client(create_app(replace(settings, betting_books=("draftkings",))))
    status, bet = await place(client, book, straight(price=-150, book=None))
    assert status == 201 and bet["legs"][0]["book"] == "draftkings"
    status, err = await place(client, book, straight(price=-140, book="fanduel"), key="k2")
    assert status == 422 and err["error"] == "book_not_offered"


async def test_price_moved_is_refused_with_the_new_prices_by_default(client: TestClient, book: Book) -> None:
    await set_price(book.dsn, "ev1", "draftkings", "h2h", "Boston Celtics", -160)
    status, err = await place(client, book, straight(price=-150))
    assert status == 409 and err["error"] == "price_changed"
    [change] = err["details"]["changes"]
    assert (change["price_seen"], change["price"], change["off_board"]) == (-150, -160, False)
    assert await sql(book.dsn, "SELECT count(*) FROM bets") == [(0,)]
    assert await account(book.dsn) == (0, 0)
    # The key was not used up: the same key with the new price goes through.
    status, bet = await place(client, book, straight(price=-160))
    assert status == 201 and bet["legs"][0]["price"] == -160


async def _prefer(book: Book, policy: str) -> None:
    await sql(book.dsn, "INSERT INTO user_preferences (user_id, accept_price_changes) VALUES (%s, %s)",
              (PLAYER, policy))


async def test_better_policy_takes_a_better_price_and_refuses_a_worse_one(client: TestClient, book: Book) -> None:
    await _prefer(book, "better")
    await set_price(book.dsn, "ev1", "draftkings", "h2h", "Boston Celtics", -130)
    status, bet = await place(client, book, straight(price=-150))
    assert status == 201 and bet["legs"][0]["price"] == -130 and bet["legs"][0]["price_seen"] == -150
    await set_price(book.dsn, "ev1", "draftkings", "h2h", "Boston Celtics", -170)
    status, err = await place(client, book, straight(price=-150), key="k2")
    assert status == 409 and err["error"] == "price_changed"
    # A moved point is never "better" automatically.
    await set_price(book.dsn, "ev1", "draftkings", "spreads", "Boston Celtics", -110, -4.5)
    status, err = await place(client, book, straight(market="spreads", price=-110, point=-5.5), key="k3")
    assert status == 409 and err["details"]["changes"][0]["point"] == -4.5


async def test_any_policy_takes_whatever_is_on_the_board(client: TestClient, book: Book) -> None:
    await _prefer(book, "any")
    await set_price(book.dsn, "ev1", "draftkings", "spreads", "Boston Celtics", -120, -6.5)
    status, bet = await place(client, book, straight(market="spreads", price=-110, point=-5.5))
    assert status == 201
    leg = bet["legs"][0]
    assert (leg["price"], leg["point"], leg["price_seen"], leg["point_seen"]) == (-120, -6.5, -110, -5.5)


async def test_off_the_board_is_a_price_change_even_under_any(client: TestClient, book: Book) -> None:
    await _prefer(book, "any")
    await set_price(book.dsn, "ev1", "draftkings", "h2h", "Boston Celtics", None)
    status, err = await place(client, book, straight(price=-150))
    assert status == 409 and err["error"] == "price_changed"
    assert err["details"]["changes"][0]["off_board"] is True


async def test_live_bettable_market_takes_bets_after_the_start(client: TestClient, book: Book) -> None:
    status, bet = await place(client, book, straight(event="live1", outcome="Utah Jazz", price=130))
    assert status == 201 and bet["legs"][0]["live"] is True
    status, err = await place(client, book, straight(event="live1", market="totals", outcome="Over", price=-110,
                                                     point=221.5), key="k2")
    assert status == 409 and err["error"] == "event_started"


async def test_an_upcoming_event_whose_start_passed_counts_as_started(client: TestClient, book: Book) -> None:
    await sql(book.dsn, "UPDATE events SET commence_time = now() - interval '1 minute' WHERE id = 'ev2'")
    status, err = await place(client, book, straight(event="ev2", market="spreads", outcome="Miami Heat",
                                                     price=-110, point=-5.5))
    assert status == 409 and err["error"] == "event_started"


async def test_ledger_chain_stays_valid_after_bets(client: TestClient, book: Book) -> None:
    for i in range(3):
        status, _ = await place(client, book, straight(stake=100 + i), key=f"k{i}")
        assert status == 201
    assert await ledger_sums(book.dsn) == (0, 303)
    assert await chain_verified(book.dsn)


async def test_a_write_that_fails_midway_leaves_nothing_and_the_key_usable(client: TestClient, book: Book) -> None:
    # The inserts, the ledger entry and COMMIT travel in one message: make the last insert fail in the
    # database itself and check that the bet and its ledger entry did not stay behind.
    await sql(book.dsn, """
        CREATE FUNCTION refuse_request() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
        CREATE TRIGGER refuse_request BEFORE INSERT ON bet_requests FOR EACH ROW EXECUTE FUNCTION refuse_request();
    """)
    status, body = await place(client, book, straight(stake=1500), key="midway")
    assert status == 500 and body["error"] == "internal", body
    assert await sql(book.dsn, "SELECT count(*) FROM bets") == [(0,)]
    assert await sql(book.dsn, "SELECT count(*) FROM ledger_entries") == [(0,)]
    assert await account(book.dsn) == (0, 0)

    await sql(book.dsn, "DROP TRIGGER refuse_request ON bet_requests")
    status, bet = await place(client, book, straight(stake=1500), key="midway")  # same key: never used
    assert status == 201, bet
    assert await account(book.dsn) == (0, 1500) and await ledger_sums(book.dsn) == (0, 1500)
    assert await chain_verified(book.dsn)
