"""Feed freshness per league and tier (the stale-feed alert's input): the oldest poll of the games a tier
must poll; a tier with nothing to poll is current."""

from __future__ import annotations

from ingest.scheduler import Scheduler, Tiers
from tests.ingest.test_scheduler import MARKETS, MIN, NOW, _ev


def test_a_tier_is_as_fresh_as_its_oldest_polled_game_and_empty_tiers_are_current() -> None:
    sched = Scheduler(Tiers(), MARKETS, window_ms=72 * 60 * MIN)
    state = {"basketball_nba": {"live1": _ev("live1", "live", -30), "live2": _ev("live2", "live", -10),
                                "up1": _ev("up1", "upcoming", 120), "new": _ev("new", "upcoming", 60),
                                "far": _ev("far", "scheduled", 10 * 24 * 60)},
             "soccer_epl": {}}
    sched.polled_odds(["live1", "up1", "far"], NOW - 5 * MIN)
    sched.polled_odds(["live2"], NOW - 1 * MIN)
    fresh = sched.freshness(NOW, state, list(state))
    assert fresh[("basketball_nba", "live")] == NOW - 5 * MIN  # the oldest live poll
    assert fresh[("basketball_nba", "upcoming")] == NOW - 5 * MIN  # "new" was never polled: no price to be stale
    assert fresh[("basketball_nba", "scheduled")] == NOW  # "far" is past the window: not polled, not stale
    assert {fresh[("soccer_epl", t)] for t in ("live", "upcoming", "scheduled")} == {NOW}
    sched.polled_odds(["live1"], NOW)
    assert sched.freshness(NOW, state, list(state))[("basketball_nba", "live")] == NOW - 1 * MIN
