"""Catalog rules without HTTP: validating filters against the catalog, loading and shaping rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import aiopg

from restapi.catalog import queries as q
from shared.errors import NotFound, ValidationFailed

BETTABLE = ("live", "upcoming", "scheduled")


def iso_utc(value: datetime) -> str:
    """A timestamptz as ``2026-11-25T19:00:00.123Z`` (UTC)."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def _fetch(pool: aiopg.Pool, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(sql, params)
        rows: list[tuple[Any, ...]] = await cur.fetchall()
        return rows


def shape_sidebar(rows: Sequence[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Sidebar rows -> sports (American first, then by games) each with its leagues."""
    sports: dict[str, dict[str, Any]] = {}
    for (sport, sport_title, sport_american, sport_order, league, league_title, league_american, popularity,
         games, live, upcoming, scheduled) in rows:
        entry = sports.setdefault(sport, {"key": sport, "title": sport_title, "american": sport_american,
                                          "order": sport_order, "games": 0, "live": 0, "leagues": []})
        entry["games"] += games
        entry["live"] += live
        entry["leagues"].append({"key": league, "title": league_title, "american": league_american,
                                 "popularity": popularity, "games": games, "live": live, "upcoming": upcoming,
                                 "scheduled": scheduled})
    ordered = sorted(sports.values(), key=lambda s: (not s["american"], s["order"], -s["games"], s["title"]))
    for s in ordered:
        del s["order"]
    return ordered


async def sidebar(pool: aiopg.Pool) -> list[dict[str, Any]]:
    """The sidebar: bettable sports -> leagues with game counts."""
    return shape_sidebar(await _fetch(pool, q.SIDEBAR))


async def sports(pool: aiopg.Pool) -> list[dict[str, Any]]:
    """Sports with bettable games, without their leagues."""
    return [{k: v for k, v in s.items() if k != "leagues"} | {"leagues": len(s["leagues"])}
            for s in await sidebar(pool)]


async def require_sport(pool: aiopg.Pool, sport: str) -> None:
    """404 unless ``sport`` is a known sport key."""
    if not await _fetch(pool, q.SPORT_EXISTS, {"sport": sport}):
        raise NotFound(f"Unknown sport {sport!r}", details={"sport": sport})


async def require_league(pool: aiopg.Pool, league: str, sport: str | None) -> None:
    """404 for an unknown league; 422 when it is not in ``sport``."""
    rows = await _fetch(pool, q.LEAGUE, {"league": league})
    if not rows:
        raise NotFound(f"Unknown league {league!r}", details={"league": league})
    if sport is not None and rows[0][1] != sport:
        raise ValidationFailed(f"League {league!r} is not in sport {sport!r}",
                               details={"league": [f"belongs to sport {rows[0][1]!r}"]})


async def leagues(pool: aiopg.Pool, sport: str) -> list[dict[str, Any]]:
    """The bettable leagues of ``sport`` (404 if the sport is unknown)."""
    await require_sport(pool, sport)
    for s in await sidebar(pool):
        if s["key"] == sport:
            return list(s["leagues"])
    return []


def shape_events(events: Sequence[tuple[Any, ...]], markets: Sequence[tuple[Any, ...]],
                 odds: Sequence[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Rows -> events, each with market flags and bookmakers (The Odds API layout plus last_update)."""
    out: dict[str, dict[str, Any]] = {}
    for eid, sport, league, league_title, home, away, commence, status, hs, aws, _total in events:
        out[eid] = {"id": eid, "sport": sport, "league": league, "league_title": league_title, "home_team": home,
                    "away_team": away, "commence_time": iso_utc(commence), "status": status,
                    "scores": None if hs is None and aws is None else {"home": hs, "away": aws},
                    "markets": {}, "bookmakers": []}
    for eid, market, is_open, live in markets:
        if eid in out:
            out[eid]["markets"][market] = {"open": is_open, "live_bettable": live}
    books: dict[tuple[str, str], dict[str, Any]] = {}
    for eid, book, title, market, outcome, price, point, last_update in odds:
        if eid not in out:
            continue
        bm = books.get((eid, book))
        if bm is None:
            bm = books[(eid, book)] = {"key": book, "title": title, "last_update": iso_utc(last_update),
                                       "markets": {}, "_t": last_update}
            out[eid]["bookmakers"].append(bm)
        if last_update > bm["_t"]:
            bm["_t"], bm["last_update"] = last_update, iso_utc(last_update)
        bm["markets"].setdefault(market, []).append({
            "name": outcome, "price": price, "point": None if point is None else float(Decimal(point)),
            "last_update": iso_utc(last_update)})
    for bm in books.values():
        del bm["_t"]
        bm["markets"] = [{"key": k, "outcomes": v} for k, v in bm["markets"].items()]
    return list(out.values())


async def odds_page(pool: aiopg.Pool, *, sport: str | None, league: str | None, event: str | None,
                    statuses: tuple[str, ...], books: tuple[str, ...] | None, limit: int,
                    offset: int) -> dict[str, Any]:
    """One page of events with their odds; 404 for an unknown sport, league or event."""
    if sport is not None:
        await require_sport(pool, sport)
    if league is not None:
        await require_league(pool, league, sport)
    if event is not None and not await _fetch(pool, q.EVENT_EXISTS, {"event": event}):
        raise NotFound(f"Unknown event {event!r}", details={"event": event})
    rows = await _fetch(pool, q.EVENTS_PAGE, {"sport": sport, "league": league, "event": event,
                                              "statuses": list(statuses), "limit": limit, "offset": offset})
    events = await _with_odds(pool, rows, books)
    total = rows[0][-1] if rows else 0
    return {"events": events, "total": total, "limit": limit, "offset": offset,
            "next_offset": offset + limit if offset + limit < total else None}


async def _with_odds(pool: aiopg.Pool, rows: list[tuple[Any, ...]],
                     books: tuple[str, ...] | None) -> list[dict[str, Any]]:
    ids = [r[0] for r in rows]
    if not ids:
        return []
    markets = await _fetch(pool, q.MARKETS, {"events": ids})
    odds = await _fetch(pool, q.ODDS, {"events": ids, "books": list(books) if books else None})
    return shape_events(rows, markets, odds)


async def event(pool: aiopg.Pool, event_id: str) -> dict[str, Any]:
    """One event with its odds, whatever its status (404 if unknown)."""
    rows = await _fetch(pool, q.EVENT, {"event": event_id})
    if not rows:
        raise NotFound(f"Unknown event {event_id!r}", details={"event": event_id})
    return (await _with_odds(pool, rows, None))[0]
