"""Pure model of the odds catalog: The Odds API shapes -> snapshot event states, and event status.

An event state is the JSON-able dict stored in ``snap:{league}`` (its shape is documented in
``shared/streams.py``). Providers speak The Odds API v4 shapes (the simulator and replay too), so
this module is the one place that parses them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypedDict


class Quote(TypedDict):
    """One book's price for one outcome: American ``price``, ``point`` (spreads, totals), ``t`` ms it last moved."""

    price: int
    point: float | None
    t: int


class MarketFlags(TypedDict):
    """Whether a market takes bets, and whether it stays open once the game is live."""

    open: bool
    live: bool


# book -> market -> outcome -> quote
Odds = dict[str, dict[str, dict[str, Quote]]]


class EventState(TypedDict):
    """One event as ``snap:{league}`` holds it (shared/streams.py documents the JSON)."""

    id: str
    sport: str
    league: str
    home: str
    away: str
    commence: str
    status: str
    scores: dict[str, int] | None
    markets: dict[str, MarketFlags]
    odds: Odds


Snapshot = dict[str, EventState]

MARKETS = ("h2h", "spreads", "totals")
STATUSES = ("scheduled", "upcoming", "live", "awaiting", "final", "cancelled")
OPEN_STATUSES = ("scheduled", "upcoming", "live")
AWAITING = "awaiting"  # over its longest plausible duration with no score: off the board, result pending

# The longest a game of each sport plausibly lasts from its listed start, delays and overtime
# included, in hours. Past it with no score, a game is taken off the board as "awaiting result".
LONGEST_HOURS = {"americanfootball": 5.0, "basketball": 4.0, "baseball": 6.0, "icehockey": 4.0, "soccer": 3.0,
                 "rugbyleague": 3.0, "rugbyunion": 3.0, "aussierules": 4.0, "lacrosse": 4.0, "handball": 3.0,
                 "mma": 8.0, "boxing": 8.0, "tennis": 7.0, "cricket": 12.0}
LONGEST_LEAGUE_HOURS = {"cricket_test_match": 5 * 24.0}
LONGEST_DEFAULT_HOURS = 8.0

# Sports (groups) listed first, in this order; everything else follows by popularity.
AMERICAN_SPORTS = {"americanfootball": 1, "basketball": 2, "baseball": 3, "icehockey": 4}
AMERICAN_LEAGUES = {"americanfootball_nfl", "americanfootball_ncaaf", "basketball_nba", "basketball_ncaab",
                    "baseball_mlb", "icehockey_nhl", "basketball_wnba"}
POPULARITY = {"americanfootball_nfl": 100, "basketball_nba": 95, "baseball_mlb": 90, "icehockey_nhl": 85,
              "americanfootball_ncaaf": 80, "basketball_ncaab": 75, "soccer_epl": 70, "mma_mixed_martial_arts": 60,
              "soccer_uefa_champs_league": 65, "soccer_usa_mls": 55, "soccer_spain_la_liga": 58}


@dataclass(frozen=True, slots=True)
class League:
    """One league (The Odds API 'sport') with its sport group and listing order."""

    key: str
    sport: str
    sport_title: str
    title: str
    description: str = ""
    active: bool = True
    has_outrights: bool = False

    @property
    def american(self) -> bool:
        return self.key in AMERICAN_LEAGUES

    @property
    def popularity(self) -> int:
        return POPULARITY.get(self.key, 10)

    @property
    def sport_american(self) -> bool:
        return self.sport in AMERICAN_SPORTS

    @property
    def sport_order(self) -> int:
        return AMERICAN_SPORTS.get(self.sport, 100)


def sport_of(league_key: str) -> str:
    """The sport group key of a league key: ``basketball_nba`` -> ``basketball``."""
    return league_key.split("_", 1)[0]


def league_from_api(raw: dict[str, Any]) -> League:
    """A League from one ``/v4/sports`` item."""
    key = str(raw["key"])
    return League(key=key, sport=sport_of(key), sport_title=str(raw.get("group") or sport_of(key).title()),
                  title=str(raw.get("title") or key), description=str(raw.get("description") or ""),
                  active=bool(raw.get("active", True)), has_outrights=bool(raw.get("has_outrights", False)))


def parse_time_ms(value: Any) -> int:
    """ISO-8601 (``...Z``) or epoch seconds -> ms since the epoch."""
    if isinstance(value, int | float):
        return int(value * 1000)
    return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp() * 1000)


def iso(ms: int) -> str:
    """ms since the epoch -> ``2026-11-25T19:00:00Z`` (the format The Odds API uses)."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def valid_price(price: Any) -> int | None:
    """An American odds integer, or None for anything that is not one (a provider's bad data)."""
    if isinstance(price, bool) or not isinstance(price, int | float) or not math.isfinite(price):
        return None
    p = int(round(price))
    return p if p >= 100 or p <= -100 else None


def _point(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def odds_from_api(raw: dict[str, Any], markets: tuple[str, ...] = MARKETS) -> Odds:
    """The ``odds`` part of an event state from one ``/odds`` event: book -> market -> outcome."""
    books: Odds = {}
    for bm in raw.get("bookmakers") or ():
        book = str(bm.get("key") or "")
        if not book:
            continue
        book_t = parse_time_ms(bm["last_update"]) if bm.get("last_update") else 0
        by_market: dict[str, dict[str, Quote]] = {}
        for mk in bm.get("markets") or ():
            key = mk.get("key")
            if key not in markets:
                continue
            t = parse_time_ms(mk["last_update"]) if mk.get("last_update") else book_t
            outcomes: dict[str, Quote] = {}
            for oc in mk.get("outcomes") or ():
                price = valid_price(oc.get("price"))
                if price is None or not oc.get("name"):
                    continue
                outcomes[str(oc["name"])] = {"price": price, "point": _point(oc.get("point")), "t": t}
            if outcomes:
                by_market[key] = outcomes
        if by_market:
            books[book] = by_market
    return books


def book_titles(raw_events: list[dict[str, Any]]) -> dict[str, str]:
    """Book key -> display title, from ``/odds`` events."""
    return {str(bm["key"]): str(bm.get("title") or bm["key"])
            for ev in raw_events for bm in ev.get("bookmakers") or () if bm.get("key")}


def status_for(commence_ms: int, now_ms: int, upcoming_window_ms: int, *, completed: bool = False,
               cancelled: bool = False) -> str:
    """The event status at ``now_ms``: cancelled/final win, then live once started, then by distance."""
    if cancelled:
        return "cancelled"
    if completed:
        return "final"
    if commence_ms <= now_ms:
        return "live"
    return "upcoming" if commence_ms - now_ms <= upcoming_window_ms else "scheduled"


def longest_duration_ms(league_key: str) -> int:
    """How long after its start a game of ``league_key`` can plausibly still be running (ms)."""
    hours = LONGEST_LEAGUE_HOURS.get(league_key) or LONGEST_HOURS.get(sport_of(league_key), LONGEST_DEFAULT_HOURS)
    return int(hours * 3_600_000)


def overdue(event: EventState, now_ms: int) -> bool:
    """True when ``event`` started longer ago than its sport allows and still has no score."""
    return event["scores"] is None and now_ms - parse_time_ms(event["commence"]) > longest_duration_ms(
        event["league"])


def scores_from_api(raw: dict[str, Any]) -> dict[str, int] | None:
    """``{"home", "away"}`` from one ``/scores`` item, or None before the game has a score."""
    scores = raw.get("scores")
    if not scores:
        return None
    by_name = {str(s.get("name")): s.get("score") for s in scores}
    try:
        home = int(by_name.get(str(raw.get("home_team")), 0) or 0)
        away = int(by_name.get(str(raw.get("away_team")), 0) or 0)
    except (TypeError, ValueError):
        return None
    return {"home": max(home, 0), "away": max(away, 0)}


def new_event(raw: dict[str, Any], league: League, *, live_bettable: bool = True) -> EventState:
    """A fresh event state (no odds, status to be set) from an ``/events`` or ``/odds`` item."""
    return {
        "id": str(raw["id"]),
        "sport": league.sport,
        "league": league.key,
        "home": str(raw.get("home_team") or ""),
        "away": str(raw.get("away_team") or ""),
        "commence": iso(parse_time_ms(raw["commence_time"])),
        "status": "scheduled",
        "scores": None,
        "markets": {m: {"open": True, "live": live_bettable} for m in MARKETS},
        "odds": {},
    }
