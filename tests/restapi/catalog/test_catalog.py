"""Catalog endpoints on data the simulator pushed through ingest: listing, filters, errors, OpenAPI."""

from __future__ import annotations

from typing import Any

from tests.restapi.catalog.conftest import Filled


async def _json(filled: Filled, path: str, status: int = 200) -> Any:
    resp = await filled.client.get(path)
    assert resp.status == status, await resp.text()
    return await resp.json()


async def test_sidebar_lists_american_sports_first_with_game_counts(filled: Filled) -> None:
    body = await _json(filled, "/api/v1/shared/sidebar")
    sports = body["sports"]
    keys = [s["key"] for s in sports]
    assert keys[:4] == ["americanfootball", "basketball", "baseball", "icehockey"]
    assert "soccer" in keys
    for sport in sports:
        assert sport["games"] == sum(lg["games"] for lg in sport["leagues"]) > 0
        for lg in sport["leagues"]:
            assert lg["games"] == lg["live"] + lg["upcoming"] + lg["scheduled"]
    football = sports[0]["leagues"]
    assert football[0]["key"] == "americanfootball_nfl"  # the most popular league of its sport first


async def test_sports_lists_only_sports_with_bettable_games(filled: Filled) -> None:
    pool = filled.pipeline.store.pool
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute("""
            INSERT INTO sports (key, title) VALUES ('curling', 'Curling');
            INSERT INTO leagues (key, sport, title) VALUES ('curling_world', 'curling', 'World Curling');
            INSERT INTO events (id, sport, league, home_team, away_team, commence_time, status, completed_at)
            VALUES ('done1', 'curling', 'curling_world', 'A', 'B', now() - interval '1 day', 'final', now());
            INSERT INTO markets (event_id, market) VALUES ('done1', 'h2h');""")
    await filled.pipeline.store.refresh_sidebar()
    body = await _json(filled, "/api/v1/shared/sports")
    keys = [s["key"] for s in body["sports"]]
    assert "curling" not in keys and "basketball" in keys
    assert all(s["games"] > 0 and s["leagues"] >= 1 for s in body["sports"])
    leagues = await _json(filled, "/api/v1/shared/sports/curling/leagues")
    assert leagues == {"sport": "curling", "leagues": []}  # a known sport with nothing to bet on


async def test_leagues_of_a_sport_and_404_for_an_unknown_sport(filled: Filled) -> None:
    body = await _json(filled, "/api/v1/shared/sports/basketball/leagues")
    assert [lg["key"] for lg in body["leagues"]][:2] == ["basketball_nba", "basketball_ncaab"]
    err = await _json(filled, "/api/v1/shared/sports/quidditch/leagues", 404)
    assert err["error"] == "not_found" and "quidditch" in err["message"]
    err = await _json(filled, "/api/v1/shared/sports/Not%20A%20Key/leagues", 422)
    assert err["error"] == "validation_error" and "sport" in err["details"]


async def test_odds_carry_every_book_with_last_update_status_and_start(filled: Filled) -> None:
    body = await _json(filled, "/api/v1/betting/odds?league=basketball_nba&status=upcoming,scheduled&limit=5")
    assert body["total"] > 5 and len(body["events"]) == 5 and body["next_offset"] == 5
    for ev in body["events"]:
        assert ev["league"] == "basketball_nba" and ev["status"] in ("upcoming", "scheduled")
        assert ev["commence_time"].endswith("Z")
        assert ev["markets"]["h2h"] == {"open": True, "live_bettable": True}
        assert ev["bookmakers"]  # several books price most games; every game here has at least one
        for bm in ev["bookmakers"]:
            for market in bm["markets"]:
                for oc in market["outcomes"]:
                    assert oc["price"] <= -100 or oc["price"] >= 100
                    assert oc["last_update"] <= bm["last_update"]
    starts = [ev["commence_time"] for ev in body["events"]]
    assert starts == sorted(starts)
    second = await _json(filled, "/api/v1/betting/odds?league=basketball_nba&status=upcoming,scheduled"
                                 "&limit=5&offset=5")
    assert not {e["id"] for e in second["events"]} & {e["id"] for e in body["events"]}


async def test_odds_filter_by_books_and_event(filled: Filled) -> None:
    body = await _json(filled, "/api/v1/betting/odds?sport=icehockey&books=fanduel,draftkings")
    assert body["events"]
    assert {bm["key"] for ev in body["events"] for bm in ev["bookmakers"]} <= {"fanduel", "draftkings"}
    eid = body["events"][0]["id"]
    one = await _json(filled, f"/api/v1/betting/odds?event={eid}")
    assert [e["id"] for e in one["events"]] == [eid] and one["total"] == 1
    async with filled.pipeline.store.pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute("UPDATE markets SET is_open = false WHERE event_id = %(e)s", {"e": eid})
    closed = await _json(filled, f"/api/v1/betting/odds?event={eid}&books=betmgm")  # another key: not cached
    assert closed["events"] == []  # off the board: no open market
    assert (await _json(filled, f"/api/v1/betting/events/{eid}"))["id"] == eid  # still readable by id


async def test_odds_unknown_sport_league_or_event_is_404(filled: Filled) -> None:
    for query in ("sport=quidditch", "league=basketball_xyz", "event=nope123"):
        err = await _json(filled, f"/api/v1/betting/odds?{query}", 404)
        assert err["error"] == "not_found"


async def test_odds_bad_filters_are_422_with_the_field(filled: Filled) -> None:
    cases = {"status=finished": "status", "status=,": "status", "limit=0": "limit", "limit=abc": "limit",
             "offset=-1": "offset", "books=Fan%20Duel": "books", "league=NBA!": "league",
             "sport=basketball&league=icehockey_nhl": "league", "event=" + "x" * 65: "event"}
    for query, field in cases.items():
        err = await _json(filled, f"/api/v1/betting/odds?{query}", 422)
        assert err["error"] == "validation_error" and field in err["details"], (query, err)


async def test_event_by_id_and_404(filled: Filled) -> None:
    listing = await _json(filled, "/api/v1/betting/odds?league=soccer_epl&limit=1")
    eid = listing["events"][0]["id"]
    ev = await _json(filled, f"/api/v1/betting/events/{eid}")
    assert ev["id"] == eid and ev["league"] == "soccer_epl"
    names = {oc["name"] for bm in ev["bookmakers"] for m in bm["markets"] if m["key"] == "h2h" for oc in m["outcomes"]}
    assert names == {ev["home_team"], ev["away_team"], "Draw"}  # three-way soccer moneyline
    totals = {oc["name"] for bm in ev["bookmakers"] for m in bm["markets"] if m["key"] == "totals"
              for oc in m["outcomes"]}
    assert totals == {"Over", "Under"}
    err = await _json(filled, "/api/v1/betting/events/does-not-exist", 404)
    assert err["error"] == "not_found"


async def test_openapi_documents_the_catalog(filled: Filled) -> None:
    spec = await _json(filled, "/docs/openapi.json")
    for path in ("/api/v1/shared/sports", "/api/v1/shared/sports/{sport}/leagues", "/api/v1/shared/sidebar",
                 "/api/v1/betting/odds", "/api/v1/betting/events/{event_id}"):
        assert "get" in spec["paths"][path], path
    params = {p["name"] for p in spec["paths"]["/api/v1/betting/odds"]["get"]["parameters"]}
    assert {"sport", "league", "status", "event", "books", "limit", "offset"} <= params
