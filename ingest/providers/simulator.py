"""A deterministic odds provider: NFL, NBA, MLB, NHL, soccer and a long tail of leagues.

Everything is a pure function of (seed, league, game, time): game schedules repeat per league,
games move scheduled -> upcoming -> live -> final (a few are cancelled), prices drift per book in
steps, and live scores grow segment by segment to a final score. It speaks The Odds API v4 shapes
so the rest of ingest cannot tell it from the real thing; ``speed`` runs its clock faster.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ingest.model import iso
from ingest.providers import LocalClock

BOOKS = (("draftkings", "DraftKings"), ("fanduel", "FanDuel"), ("betmgm", "BetMGM"),
         ("williamhill_us", "Caesars"), ("betrivers", "BetRivers"), ("bovada", "Bovada"))
CORE = (
    ("americanfootball_nfl", "American Football", "NFL", "US Football", 46.0, 180),
    ("americanfootball_ncaaf", "American Football", "NCAAF", "US College Football", 55.0, 150),
    ("basketball_nba", "Basketball", "NBA", "US Basketball", 226.0, 90),
    ("basketball_ncaab", "Basketball", "NCAAB", "US College Basketball", 145.0, 120),
    ("baseball_mlb", "Baseball", "MLB", "Major League Baseball", 8.5, 90),
    ("icehockey_nhl", "Ice Hockey", "NHL", "US Ice Hockey", 6.0, 90),
    ("soccer_epl", "Soccer", "EPL", "Premier League - England", 2.7, 180),
    ("soccer_spain_la_liga", "Soccer", "La Liga - Spain", "Spanish Soccer", 2.6, 150),
    ("soccer_germany_bundesliga", "Soccer", "Bundesliga - Germany", "German Soccer", 3.1, 150),
    ("soccer_italy_serie_a", "Soccer", "Serie A - Italy", "Italian Soccer", 2.6, 150),
    ("soccer_usa_mls", "Soccer", "MLS", "Major League Soccer", 2.9, 180),
    ("soccer_uefa_champs_league", "Soccer", "UEFA Champions League", "European Champions Cup", 2.9, 240),
    ("mma_mixed_martial_arts", "Mixed Martial Arts", "MMA", "Mixed Martial Arts", 0.0, 240),
)
TAIL_SPORTS = (("soccer", "Soccer", 2.7), ("basketball", "Basketball", 160.0), ("icehockey", "Ice Hockey", 5.5),
               ("handball", "Handball", 56.0), ("volleyball", "Volleyball", 4.0), ("rugbyunion", "Rugby Union", 44.0),
               ("aussierules", "Aussie Rules", 160.0), ("cricket", "Cricket", 300.0), ("baseball", "Baseball", 9.0))
COUNTRIES = ("argentina", "austria", "belgium", "brazil", "chile", "china", "czech", "denmark", "egypt", "finland",
             "france", "greece", "india", "ireland", "israel", "japan", "korea", "mexico", "netherlands", "norway",
             "poland", "portugal", "romania", "scotland", "serbia", "slovakia", "sweden", "switzerland", "turkey",
             "ukraine", "uruguay", "wales", "croatia", "hungary", "peru", "colombia", "australia", "canada")
CITIES = ("Austin", "Boston", "Chicago", "Denver", "Detroit", "Houston", "Miami", "Phoenix", "Seattle", "Portland",
          "Atlanta", "Dallas", "Toronto", "Orlando", "Memphis", "Oakland", "Buffalo", "Tampa", "Omaha", "Reno")
MASCOTS = ("Hawks", "Bears", "Wolves", "Comets", "Rangers", "Pilots", "Stags", "Foxes", "Bulls", "Owls",
           "Kings", "Giants", "Sharks", "Ravens", "Tigers", "Vipers", "Lynx", "Storm", "Rovers", "United")
# How a sport's game is split and shown while live: (periods, minutes each or None when untimed,
# label, clock counts down). A simulated game (``game_minutes`` long) is mapped onto these.
CLOCKS: dict[str, tuple[int, int | None, str, bool]] = {
    "basketball": (4, 12, "Q{n}", True), "americanfootball": (4, 15, "Q{n}", True),
    "icehockey": (3, 20, "P{n}", True), "aussierules": (4, 20, "Q{n}", True), "mma": (3, 5, "Round {n}", True),
    "soccer": (2, 45, "{nth} half", False), "rugbyunion": (2, 40, "{nth} half", False),
    "handball": (2, 30, "{nth} half", False), "baseball": (18, None, "{half} {inning}", False),
    "volleyball": (5, None, "Set {n}", False), "cricket": (2, None, "Innings {n}", False),
}
HORIZON_H = 36          # games are listed up to this far ahead
SEGMENTS = 12           # a game's score grows in this many steps
DRIFT_STEP_MS = 60_000  # prices may move once per simulated minute


def _u(*parts: object) -> float:
    """A deterministic uniform [0, 1) from ``parts`` (crc32; Python's hash() is salted per process)."""
    return zlib.crc32("|".join(map(str, parts)).encode()) / 4294967296.0


def _nth(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def game_clock(sport: str, played: float) -> tuple[str, str | None] | None:
    """Period and clock of a live game ``played`` (0-1) through: ("Q3", "7:42"), ("2nd half", "67'"),
    ("Top 5th", None); None for a sport with no known shape."""
    shape = CLOCKS.get(sport)
    if shape is None:
        return None
    periods, minutes, label, down = shape
    at = min(max(played, 0.0), 0.999999) * periods
    n = int(at) + 1
    period = label.format(n=n, nth=_nth(n), half="Top" if n % 2 else "Bottom", inning=_nth((n + 1) // 2))
    if minutes is None:
        return period, None
    if down:
        left = round((n - at) * minutes * 60)
        return period, f"{left // 60}:{left % 60:02d}"
    return period, f"{int(at * minutes) + 1}'"


def _draw(mean: float, u: float) -> int:
    """An integer with expectation ``mean``: its floor, plus one with the fractional part's chance."""
    whole = int(mean)
    return whole + (1 if u < mean - whole else 0)


def american(p: float) -> int:
    """Fair probability ``p`` -> American odds, rounded to 5 (never between -100 and +100)."""
    p = min(max(p, 0.02), 0.98)
    if p >= 0.5:
        value = -100 * p / (1 - p)
        return min(-100, int(round(value / 5) * 5))
    return max(100, int(round(100 * (1 - p) / p / 5) * 5))


@dataclass(frozen=True, slots=True)
class SimLeague:
    key: str
    group: str
    title: str
    description: str
    total: float        # expected combined score
    period_min: int     # minutes between game slots
    per_slot: int       # games per slot
    teams: tuple[str, ...]


def build_leagues(seed: int, count: int) -> list[SimLeague]:
    """The core leagues plus a generated tail, ``count`` in all."""
    leagues: list[SimLeague] = []
    for i, (key, group, title, desc, total, period) in enumerate(CORE[:count]):
        leagues.append(SimLeague(key, group, title, desc, total, period, 2, _teams(seed, key, 16)))
    n = 0
    while len(leagues) < count:
        sport, group, total = TAIL_SPORTS[n % len(TAIL_SPORTS)]
        country = COUNTRIES[(n // len(TAIL_SPORTS)) % len(COUNTRIES)]
        tier = n // (len(TAIL_SPORTS) * len(COUNTRIES)) + 1
        key = f"{sport}_{country}_{'league' if tier == 1 else f'div{tier}'}"
        title = f"{country.title()} {group} {'League' if tier == 1 else f'Division {tier}'}"
        period = 180 + int(_u(seed, key, "period") * 13) * 30  # 3-9 h between slots, on the half hour
        leagues.append(SimLeague(key, group, title, f"{group} - {country.title()}", total, period,
                                 1 + int(_u(seed, key, "slot") * 2), _teams(seed, key, 12)))
        n += 1
    return leagues


def _teams(seed: int, key: str, n: int) -> tuple[str, ...]:
    names: list[str] = []
    i = 0
    while len(names) < n:
        city = CITIES[int(_u(seed, key, "c", i) * len(CITIES))]
        mascot = MASCOTS[int(_u(seed, key, "m", i) * len(MASCOTS))]
        name = f"{city} {mascot}"
        if name not in names:
            names.append(name)
        i += 1
    return tuple(names)


class Simulator(LocalClock):
    """The simulated provider; ``clock`` returns real seconds, and simulated time runs at ``speed``."""

    name = "simulator"

    def __init__(self, seed: int = 42, leagues: int = 110, *, speed: float = 1.0, game_minutes: float = 30.0,
                 clock: Callable[[], float] = time.time, start_ms: int | None = None) -> None:
        self.seed = seed
        self.game_ms = int(game_minutes * 60_000)
        super().__init__(speed, clock)
        self.start_ms = start_ms if start_ms is not None else int(self._t0 * 1000)
        self.leagues = {lg.key: lg for lg in build_leagues(seed, leagues)}
        self.calls = 0

    # -- schedule ---------------------------------------------------------------------------------

    def _games(self, lg: SimLeague, now: int) -> list[dict[str, Any]]:
        """Games whose start lies in [now - game - 6 h, now + horizon], as raw event dicts.

        Kick-offs fall on the hour or half hour. The day's games follow a round robin of the league's
        teams in an order drawn per day, so no matchup repeats within a UTC day and no team plays two
        games of one slot."""
        period = lg.period_min * 60_000
        offset = int(_u(self.seed, lg.key, "offset") * (lg.period_min // 30)) * 1_800_000
        first = (now - self.game_ms - 6 * 3_600_000 - offset) // period
        last = (now + HORIZON_H * 3_600_000 - offset) // period
        games = []
        for slot in range(first, last + 1):
            commence = slot * period + offset
            for g in range(lg.per_slot):
                a, b = self._matchup(lg, slot, g, commence)
                eid = f"{zlib.crc32(f'{self.seed}|{lg.key}|{slot}|{g}'.encode()):08x}{slot & 0xFFFFFF:06x}{g:02x}"
                games.append({"id": eid, "sport_key": lg.key, "sport_title": lg.title, "commence_ms": commence,
                              "home_team": lg.teams[a], "away_team": lg.teams[b]})
        return games

    def _matchup(self, lg: SimLeague, slot: int, g: int, commence: int) -> tuple[int, int]:
        """(home, away) team indexes of game ``g`` of ``slot``: the day's k-th pair of a round robin."""
        period = lg.period_min * 60_000
        day = commence // 86_400_000
        offset = commence - slot * period
        first_of_day = -((offset - day * 86_400_000) // period)  # ceil((day start - offset) / period)
        k = (slot - first_of_day) * lg.per_slot + g
        n = len(lg.teams)
        order = sorted(range(n), key=lambda t: _u(self.seed, lg.key, day, t, "order"))
        half = n // 2
        rnd = (int(_u(self.seed, lg.key, day, "round") * (n - 1)) + k // half) % (n - 1)
        i = k % half
        x, y = (n - 1, rnd) if i == 0 else ((rnd + i) % (n - 1), (rnd - i) % (n - 1))
        home, away = order[x], order[y]
        return (home, away) if _u(self.seed, lg.key, slot, g, "h") < 0.5 else (away, home)

    def _cancelled(self, lg: SimLeague, game: dict[str, Any]) -> bool:
        return _u(self.seed, game["id"], "cancel") < 0.02

    def _state(self, lg: SimLeague, game: dict[str, Any], now: int) -> str:
        commence = game["commence_ms"]
        if self._cancelled(lg, game) and now >= commence - 30 * 60_000:
            return "cancelled"
        if now < commence:
            return "pre"
        return "final" if now >= commence + self.game_ms else "live"

    def _score(self, lg: SimLeague, game: dict[str, Any], now: int) -> tuple[int, int]:
        done = min(SEGMENTS, max(0, (now - game["commence_ms"]) * SEGMENTS // self.game_ms))
        home = away = 0
        strength = self._strength(lg, game)
        per = lg.total / SEGMENTS
        for s in range(int(done)):
            home += _draw(per * strength * (0.7 + 0.6 * _u(self.seed, game["id"], s, "h")),
                          _u(self.seed, game["id"], s, "hx"))
            away += _draw(per * (1 - strength) * (0.7 + 0.6 * _u(self.seed, game["id"], s, "a")),
                          _u(self.seed, game["id"], s, "ax"))
        return home, away

    def _strength(self, lg: SimLeague, game: dict[str, Any]) -> float:
        """Home team's share of the scoring (0.35 .. 0.65)."""
        return 0.35 + 0.3 * _u(self.seed, lg.key, game["home_team"], game["away_team"], "str")

    # -- prices -----------------------------------------------------------------------------------

    def _book_step(self, book: str, game: dict[str, Any], now: int) -> int:
        """The last drift step at which ``book`` moved this game's prices (books move at different times)."""
        step = now // DRIFT_STEP_MS
        for back in range(6):
            if _u(self.seed, book, game["id"], step - back) < 0.5:
                return step - back
        return step - 6

    def _prices(self, lg: SimLeague, game: dict[str, Any], book: str, step: int, now: int,
                markets: tuple[str, ...]) -> list[dict[str, Any]]:
        strength = self._strength(lg, game)
        drift = 0.06 * (_u(self.seed, game["id"], step) - 0.5) + 0.01 * (_u(self.seed, book, game["id"]) - 0.5)
        p_home = strength + drift
        total = lg.total
        home_sc = away_sc = 0
        if self._state(lg, game, now) == "live":
            home_sc, away_sc = self._score(lg, game, now)
            left = max(0.05, 1 - (now - game["commence_ms"]) / self.game_ms)
            lead = (home_sc - away_sc) / max(1.0, lg.total ** 0.5 * 2)
            p_home = p_home + (1 - left) * lead
            total = home_sc + away_sc + lg.total * left
        p_home = min(max(p_home, 0.03), 0.97)
        vig = 1.045
        home, away = game["home_team"], game["away_team"]
        out: list[dict[str, Any]] = []
        t = iso(step * DRIFT_STEP_MS)
        if "h2h" in markets:
            if lg.group == "Soccer":
                draw = 0.26
                outcomes = [{"name": home, "price": american(p_home * (1 - draw) * vig)},
                            {"name": away, "price": american((1 - p_home) * (1 - draw) * vig)},
                            {"name": "Draw", "price": american(draw * vig)}]
            else:
                outcomes = [{"name": home, "price": american(p_home * vig)},
                            {"name": away, "price": american((1 - p_home) * vig)}]
            out.append({"key": "h2h", "last_update": t, "outcomes": outcomes})
        if "spreads" in markets and lg.total > 0:
            margin = (p_home - 0.5) * max(1.5, lg.total ** 0.5 * 1.6) + (home_sc - away_sc)
            line = round(margin * 2) / 2 or 0.5
            juice = _u(self.seed, book, game["id"], step, "j") * 0.04
            out.append({"key": "spreads", "last_update": t, "outcomes": [
                {"name": home, "price": american(0.5 * vig + juice), "point": -line},
                {"name": away, "price": american(0.5 * vig - juice), "point": line}]})
        if "totals" in markets and lg.total > 0:
            line = round(total * 2) / 2 + 0.5 * (_u(self.seed, book, game["id"]) > 0.5)
            lean = (_u(self.seed, game["id"], step, "t") - 0.5) * 0.06
            out.append({"key": "totals", "last_update": t, "outcomes": [
                {"name": "Over", "price": american(0.5 * vig + lean), "point": line},
                {"name": "Under", "price": american(0.5 * vig - lean), "point": line}]})
        return out

    # -- the Provider interface ------------------------------------------------------------------

    async def sports(self) -> list[dict[str, Any]]:
        self.calls += 1
        return [{"key": lg.key, "group": lg.group, "title": lg.title, "description": lg.description,
                 "active": True, "has_outrights": False} for lg in self.leagues.values()]

    def _open_games(self, league: str) -> tuple[SimLeague, list[dict[str, Any]], int]:
        lg = self.leagues.get(league)
        if lg is None:
            return CORE_MISSING, [], self.now_ms()
        now = self.now_ms()
        # A cancelled game stays listed (without prices) until it would have ended, so ingest sees
        # it cancelled in the scores instead of just losing it from the board.
        return lg, [g for g in self._games(lg, now) if self._state(lg, g, now) in ("pre", "live")
                    or (self._state(lg, g, now) == "cancelled" and now < g["commence_ms"] + self.game_ms)], now

    @staticmethod
    def _event(g: dict[str, Any]) -> dict[str, Any]:
        return {"id": g["id"], "sport_key": g["sport_key"], "sport_title": g["sport_title"],
                "commence_time": iso(g["commence_ms"]), "home_team": g["home_team"], "away_team": g["away_team"]}

    async def events(self, league: str) -> list[dict[str, Any]]:
        self.calls += 1
        _lg, games, _now = self._open_games(league)
        return [self._event(g) for g in games]

    async def odds(self, league: str, markets: tuple[str, ...],
                   event_ids: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        self.calls += 1
        lg, games, now = self._open_games(league)
        wanted = set(event_ids) if event_ids else None
        out = []
        for g in games:
            if wanted is not None and g["id"] not in wanted:
                continue
            books = []
            for book, title in BOOKS:
                if self._cancelled(lg, g) and now >= g["commence_ms"] - 30 * 60_000:
                    break  # books take a cancelled game off the board
                if _u(self.seed, book, g["id"], "lists") < 0.15:
                    continue  # not every book prices every game
                step = self._book_step(book, g, now)
                mk = self._prices(lg, g, book, step, now, markets)
                books.append({"key": book, "title": title, "last_update": iso(step * DRIFT_STEP_MS), "markets": mk})
            out.append({**self._event(g), "bookmakers": books})
        return out

    async def scores(self, league: str, event_ids: tuple[str, ...] | None = None,
                     days_from: int | None = None) -> list[dict[str, Any]]:
        self.calls += 1
        lg = self.leagues.get(league)
        if lg is None:
            return []
        now = self.now_ms()
        wanted = set(event_ids) if event_ids else None
        out = []
        for g in self._games(lg, now):
            if wanted is not None and g["id"] not in wanted:
                continue
            state = self._state(lg, g, now)
            if state in ("final", "cancelled") and not days_from:
                continue
            item: dict[str, Any] = {**self._event(g), "completed": state in ("final", "cancelled"),
                                    "scores": None, "last_update": None}
            if state == "cancelled":
                item["cancelled"] = True  # a simulator extension; The Odds API has no such field
            elif state in ("live", "final"):
                h, a = self._score(lg, g, now)
                item["scores"] = [{"name": g["home_team"], "score": str(h)}, {"name": g["away_team"], "score": str(a)}]
                item["last_update"] = iso(now)
                clock = game_clock(lg.key.split("_")[0], (now - g["commence_ms"]) / self.game_ms)
                if state == "live" and clock is not None:  # simulator extensions: The Odds API gives no clock
                    item["period"], item["clock"] = clock
            out.append(item)
        return out


CORE_MISSING = SimLeague("", "", "", "", 0.0, 60, 1, ("",))
