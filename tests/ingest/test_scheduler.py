"""The tiers: live every 30 s, upcoming every 5 min, scheduled every 30 min; batching and quota slow-down."""

from __future__ import annotations

from ingest.model import iso
from ingest.scheduler import Scheduler, Tiers

MARKETS = ("h2h", "spreads", "totals")
NOW = 1_800_000_000_000
MIN = 60_000


def _ev(eid: str, status: str, start_in_min: float) -> dict[str, object]:
    return {"id": eid, "status": status, "commence": iso(NOW + int(start_in_min * MIN))}


def _state() -> dict[str, dict[str, dict[str, object]]]:
    return {"basketball_nba": {"live1": _ev("live1", "live", -30), "up1": _ev("up1", "upcoming", 120),
                               "sch1": _ev("sch1", "scheduled", 30 * 60)},
            "icehockey_nhl": {"far": _ev("far", "scheduled", 10 * 24 * 60)},
            "soccer_epl": {}}


def _due(sched: Scheduler, now: int) -> set[str]:
    plan = sched.plan(now, _state(), list(_state()))
    ids: set[str] = set()
    for req in plan.odds:
        ids |= set(req.event_ids or _state()[req.league])
    return ids


def _mark(sched: Scheduler, now: int) -> None:
    plan = sched.plan(now, _state(), list(_state()))
    for req in plan.odds:
        sched.polled_odds(list(req.event_ids or _state()[req.league]), now)
    for sreq in plan.scores:
        sched.polled_scores(sreq.league, now)
    for league in plan.discover:
        sched.discovered(league, now)


def test_each_tier_is_polled_at_its_own_interval() -> None:
    sched = Scheduler(Tiers(30, 300, 1800), MARKETS, 72 * 60 * MIN)
    assert _due(sched, NOW) == {"live1", "up1", "sch1"}
    _mark(sched, NOW)
    assert _due(sched, NOW + 29_000) == set()
    assert _due(sched, NOW + 30_000) == {"live1"}
    _mark(sched, NOW + 30_000)
    assert _due(sched, NOW + 300_000) == {"live1", "up1"}
    _mark(sched, NOW + 300_000)
    assert _due(sched, NOW + 1_800_000) == {"live1", "up1", "sch1"}


def test_one_call_per_league_per_tick_and_the_saved_calls_are_counted() -> None:
    sched = Scheduler(Tiers(30, 300, 1800), MARKETS, 72 * 60 * MIN)
    plan = sched.plan(NOW, _state(), list(_state()))
    assert [r.league for r in plan.odds] == ["basketball_nba"]
    assert plan.odds[0].tiers == ("live", "upcoming", "scheduled")
    assert plan.saved == 2  # three tiers' requests merged into one call
    assert [s.league for s in plan.scores] == ["basketball_nba"]
    assert plan.scores[0].event_ids == ("live1",)


def test_a_league_with_no_game_in_the_window_costs_nothing() -> None:
    sched = Scheduler(Tiers(), MARKETS, 72 * 60 * MIN)
    plan = sched.plan(NOW, _state(), list(_state()))
    assert "icehockey_nhl" not in {r.league for r in plan.odds + plan.scores}  # type: ignore[operator]
    assert "icehockey_nhl" in plan.no_games
    assert set(plan.discover) == set(_state())  # discovery (free) still runs for every league


def test_quota_slowdown_stretches_every_interval() -> None:
    sched = Scheduler(Tiers(30, 300, 1800), MARKETS, 72 * 60 * MIN)
    _mark(sched, NOW)
    plan = sched.plan(NOW + 30_000, _state(), list(_state()), slowdown=4.0)
    assert plan.odds == [] and plan.scores == []
    plan = sched.plan(NOW + 120_000, _state(), list(_state()), slowdown=4.0)
    assert plan.odds and plan.odds[0].event_ids == ("live1",)
