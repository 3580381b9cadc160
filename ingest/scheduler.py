"""The tiered poll plan (pure): which leagues to discover, which events' odds and scores to fetch.

Each event is polled at the interval of its tier (live 30 s, upcoming 5 min, scheduled 30 min by
default, all stretched by the provider's quota slow-down). Within one tick, every due event of a
league goes into one ``/odds`` call whatever its tier (batching; an event is never asked for twice:
dedup), and the calls a per-tier poller would have made beyond that are counted as saved. Leagues
with no game live or starting within the window cost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest.model import Snapshot, parse_time_ms

TIERS = ("live", "upcoming", "scheduled")


@dataclass(frozen=True, slots=True)
class Tiers:
    """Poll interval per tier, in seconds."""

    live: float = 30.0
    upcoming: float = 300.0
    scheduled: float = 1800.0

    def interval_ms(self, status: str, slowdown: float = 1.0) -> float:
        """The poll interval of ``status``'s tier in ms, stretched by ``slowdown``."""
        return {"live": self.live, "upcoming": self.upcoming}.get(status, self.scheduled) * 1000 * slowdown


@dataclass(frozen=True, slots=True)
class OddsRequest:
    """One ``/odds`` call; ``event_ids`` None means the whole league (it also finds new games)."""

    league: str
    markets: tuple[str, ...]
    event_ids: tuple[str, ...] | None
    tiers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ScoresRequest:
    """One ``/scores`` call for the games that have started and are not over."""

    league: str
    event_ids: tuple[str, ...]
    days_from: int = 1
    late: bool = False  # for games awaiting a result (no score long after their start)


@dataclass(slots=True)
class Plan:
    """What one tick does."""

    discover: list[str] = field(default_factory=list)
    odds: list[OddsRequest] = field(default_factory=list)
    scores: list[ScoresRequest] = field(default_factory=list)
    saved: int = 0
    no_games: list[str] = field(default_factory=list)


class Scheduler:
    """Remembers when each event, league and score feed was last polled (provider clock, ms)."""

    def __init__(self, tiers: Tiers, markets: tuple[str, ...], window_ms: float) -> None:
        self.tiers = tiers
        self.markets = markets
        self.window_ms = window_ms
        self.last_odds: dict[str, int] = {}
        self.last_discovery: dict[str, int] = {}
        self.last_scores: dict[str, int] = {}
        self.last_late_scores: dict[str, int] = {}
        self.last_idle: dict[str, int] = {}  # when a league without games was last counted as skipped

    def plan(self, now: int, state: dict[str, Snapshot], leagues: list[str], slowdown: float = 1.0) -> Plan:
        """The requests due at ``now``."""
        plan = Plan()
        for league in leagues:
            last = self.last_discovery.get(league)
            if last is None or now - last >= self.tiers.interval_ms("scheduled", slowdown):
                plan.discover.append(league)
            events = state.get(league, {})
            eligible: list[str] = []
            due: dict[str, list[str]] = {}
            started: list[str] = []
            awaiting: list[str] = []
            for eid, ev in events.items():
                status = ev["status"]
                if status == "awaiting":
                    awaiting.append(eid)
                if status not in TIERS:
                    continue
                commence = parse_time_ms(ev["commence"])
                if commence <= now:
                    started.append(eid)
                if status != "live" and commence - now > self.window_ms:
                    continue
                eligible.append(eid)
                polled = self.last_odds.get(eid)
                if polled is None or now - polled >= self.tiers.interval_ms(status, slowdown):
                    due.setdefault(status, []).append(eid)
            if not eligible:
                if events or league not in plan.discover:
                    plan.no_games.append(league)
            elif due:
                ids = sorted({eid for group in due.values() for eid in group})
                whole = len(ids) == len(eligible) and len(eligible) == len(events)
                plan.odds.append(OddsRequest(league, self.markets, None if whole else tuple(ids),
                                             tuple(t for t in TIERS if t in due)))
                plan.saved += len(due) - 1
            if started:
                polled = self.last_scores.get(league)
                if polled is None or now - polled >= self.tiers.interval_ms("live", slowdown):
                    plan.scores.append(ScoresRequest(league, tuple(sorted(started))))
            if awaiting:  # a late result: asked for at the slow pace, with completed games included
                polled = self.last_late_scores.get(league)
                if polled is None or now - polled >= self.tiers.interval_ms("scheduled", slowdown):
                    plan.scores.append(ScoresRequest(league, tuple(sorted(awaiting)), days_from=3, late=True))
        return plan

    def freshness(self, now: int, state: dict[str, Snapshot], leagues: list[str]) -> dict[tuple[str, str], int]:
        """When each (league, tier) was last fully current (ms): the oldest odds poll among the games it
        must poll, or ``now`` when it has none (nothing to be stale about). A game not polled yet does
        not count: it has no price to be stale."""
        out: dict[tuple[str, str], int] = {}
        for league in leagues:
            oldest = dict.fromkeys(TIERS, now)
            for eid, ev in state.get(league, {}).items():
                status = ev["status"]
                if status not in TIERS or (status != "live" and parse_time_ms(ev["commence"]) - now > self.window_ms):
                    continue
                polled = self.last_odds.get(eid)
                if polled is not None and polled < oldest[status]:
                    oldest[status] = polled
            for tier, at in oldest.items():
                out[(league, tier)] = at
        return out

    def idle_skips(self, leagues: list[str], now: int, slowdown: float = 1.0) -> int:
        """How many of ``leagues`` (without games) a plain poller would have called at ``now``: each
        counts once per scheduled interval, not on every tick."""
        n = 0
        for league in leagues:
            last = self.last_idle.get(league)
            if last is None or now - last >= self.tiers.interval_ms("scheduled", slowdown):
                self.last_idle[league] = now
                n += 1
        return n

    def polled_odds(self, event_ids: list[str], now: int) -> None:
        """Record that these events' odds were fetched at ``now``."""
        for eid in event_ids:
            self.last_odds[eid] = now

    def polled_scores(self, league: str, now: int, late: bool = False) -> None:
        """Record that the league's scores (of games awaiting a result, with ``late``) were fetched at ``now``."""
        (self.last_late_scores if late else self.last_scores)[league] = now

    def discovered(self, league: str, now: int) -> None:
        """Record that the league's event list was fetched at ``now``."""
        self.last_discovery[league] = now

    def forget(self, event_ids: list[str]) -> None:
        """Drop events that left the board."""
        for eid in event_ids:
            self.last_odds.pop(eid, None)
