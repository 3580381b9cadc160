"""Bet history: own bets only, filters by status, sport and date, and cursor pagination."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from tests.restapi.betting.conftest import (
    ADMIN,
    AGENT,
    OTHER_BOOK_PLAYER,
    PLAYER,
    PLAYER2,
    Book,
    place,
    sel,
    sql,
    straight,
)

BETS = "/api/v1/betting/bets"


async def _page(client: TestClient, book: Book, query: str = "", user: int = PLAYER) -> tuple[int, dict]:
    resp = await client.get(f"{BETS}{query}", headers=book.auth(user))
    return resp.status, await resp.json()


async def test_history_pages_through_own_bets_newest_first(client: TestClient, book: Book) -> None:
    ids = []
    for i in range(5):
        status, bet = await place(client, book, straight(stake=100 + i), key=f"k{i}")
        assert status == 201
        ids.append(bet["id"])
    status, other = await place(client, book, straight(), key="k0", user=PLAYER2)
    assert status == 201

    seen: list[int] = []
    query = "?limit=2"
    while True:
        status, page = await _page(client, book, query)
        assert status == 200
        seen += [b["id"] for b in page["bets"]]
        assert all(len(b["legs"]) == 1 for b in page["bets"])
        if page["next_cursor"] is None:
            break
        query = f"?limit=2&cursor={page['next_cursor']}"
    assert seen == ids[::-1]
    assert other["id"] not in seen

    resp = await client.get(f"{BETS}/{other['id']}", headers=book.auth())
    assert resp.status == 404  # another player's bet is invisible


async def test_history_filters_by_status_sport_and_date(client: TestClient, book: Book) -> None:
    status, nba = await place(client, book, straight(), key="a")
    status, epl = await place(client, book, straight(event="ev3", outcome="Arsenal", price=150), key="b")
    await sql(book.dsn, "UPDATE bets SET status = 'won', payout_cents = 2500, settled_at = now() WHERE id = %s",
              (epl["id"],))
    await sql(book.dsn, "UPDATE bets SET placed_at = '2026-01-10T12:00:00Z' WHERE id = %s", (nba["id"],))

    async def ids(query: str) -> list[int]:
        status, page = await _page(client, book, query)
        assert status == 200, page
        return [b["id"] for b in page["bets"]]

    assert await ids("?status=won") == [epl["id"]]
    assert await ids("?status=open") == [nba["id"]]
    assert await ids("?sport=soccer") == [epl["id"]]
    assert await ids("?sport=basketball_nba") == [nba["id"]]
    assert await ids("?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z") == [nba["id"]]
    assert await ids("?from=2026-02-01") == [epl["id"]]
    # Zone offsets PostgreSQL would refuse (over 16 h) are applied here: 2026-02-01 19:14 UTC.
    assert await ids("?from=2026-02-01T00:00:00-19:14&to=2026-02-02T00:00:00-23:59") == []


async def test_history_filters_by_bet_type_on_the_server(client: TestClient, book: Book) -> None:
    """``type`` filters in SQL, so a page of parlays is full even when straights are the most recent bets."""
    status, parlay = await place(client, book, {"type": "parlay", "stake_cents": 500, "selections": [
        sel(), sel("ev2", "totals", "Under", -110, 221.5)]}, key="p")
    assert status == 201
    for i in range(3):
        status, _ = await place(client, book, straight(stake=100 + i), key=f"s{i}")
        assert status == 201
    status, page = await _page(client, book, "?type=parlay&limit=1")
    assert status == 200 and [b["id"] for b in page["bets"]] == [parlay["id"]] and page["next_cursor"] is None
    status, page = await _page(client, book, "?type=straight")
    assert len(page["bets"]) == 3 and all(b["type"] == "straight" for b in page["bets"])
    status, err = await _page(client, book, "?type=teaser")
    assert (status, err["error"]) == (422, "validation_error")


async def test_history_rejects_bad_filters(client: TestClient, book: Book) -> None:
    for query in ("?status=pending", "?limit=0", "?limit=x", "?from=yesterday", "?cursor=%%%", "?cursor=Yjk5OQ",
                  "?sport=NBA;drop", "?cursor=bm90LWEtYmV0", "?from=0001-01-01T01:00:00%2B05:00",
                  "?to=9999-12-31T23:00:00-05:00"):
        status, err = await _page(client, book, query)
        if query == "?cursor=Yjk5OQ":  # a well-formed cursor ("b999") past the end: an empty page
            assert (status, err["bets"]) == (200, [])
            continue
        assert (status, err["error"]) == (422, "validation_error"), query


async def test_parlay_in_history_lists_every_leg(client: TestClient, book: Book) -> None:
    status, bet = await place(client, book, {"type": "parlay", "stake_cents": 500, "selections": [
        sel(), sel("ev2", "totals", "Under", -110, 221.5)]})
    assert status == 201
    status, page = await _page(client, book)
    [got] = page["bets"]
    assert got["type"] == "parlay" and [leg["market"] for leg in got["legs"]] == ["h2h", "totals"]


async def test_agents_see_their_players_bets_through_the_agent_api(client: TestClient, book: Book) -> None:
    status, bet = await place(client, book, straight(), key="a")
    assert status == 201
    status, other = await place(client, book, straight(event="ev3", outcome="Arsenal", price=150), key="b",
                                user=OTHER_BOOK_PLAYER)
    assert status == 201
    url = f"/api/v1/agent/clients/{PLAYER}/bets"

    resp = await client.get(url, headers=book.auth(AGENT, "agent", None))
    page = await resp.json()
    assert resp.status == 200, page
    assert [b["id"] for b in page["bets"]] == [bet["id"]] and page["bets"][0]["legs"][0]["event_id"] == "ev1"
    resp = await client.get(url, params={"status": "won"}, headers=book.auth(AGENT, "agent", None))
    assert (await resp.json())["bets"] == []
    resp = await client.get(f"/api/v1/agent/clients/{OTHER_BOOK_PLAYER}/bets", headers=book.auth(ADMIN, "admin", None))
    assert [b["id"] for b in (await resp.json())["bets"]] == [other["id"]]  # an admin sees every book

    resp = await client.get(f"/api/v1/agent/clients/{OTHER_BOOK_PLAYER}/bets", headers=book.auth(AGENT, "agent", None))
    assert (resp.status, (await resp.json())["error"]) == (404, "customer_not_found")  # another agent's player
    resp = await client.get(url, headers=book.auth())
    assert resp.status == 403  # players use betting/bets
    resp = await client.get(url, params={"from": "yesterday"}, headers=book.auth(AGENT, "agent", None))
    assert (resp.status, (await resp.json())["error"]) == (422, "validation_error")
