"""The simulator: deterministic, 100+ leagues, games that go scheduled -> upcoming -> live -> final."""

from __future__ import annotations

from ingest.model import league_from_api, odds_from_api
from ingest.pipeline import Poller
from ingest.providers.simulator import Simulator, game_clock
from ingest.scheduler import Scheduler, Tiers

MARKETS = ("h2h", "spreads", "totals")
T0 = 1_800_000_000.0


async def test_same_seed_and_time_give_the_same_answers() -> None:
    a = Simulator(seed=11, leagues=20, clock=lambda: T0)
    b = Simulator(seed=11, leagues=20, clock=lambda: T0)
    c = Simulator(seed=12, leagues=20, clock=lambda: T0)
    assert await a.sports() == await b.sports()
    assert await a.odds("basketball_nba", MARKETS) == await b.odds("basketball_nba", MARKETS)
    assert await a.odds("basketball_nba", MARKETS) != await c.odds("basketball_nba", MARKETS)


async def test_runs_the_american_leagues_soccer_and_a_long_tail() -> None:
    sim = Simulator(seed=1, leagues=110, clock=lambda: T0)
    leagues = [league_from_api(x) for x in await sim.sports()]
    keys = {lg.key for lg in leagues}
    assert len(leagues) == 110 and len(keys) == 110
    assert {"americanfootball_nfl", "basketball_nba", "baseball_mlb", "icehockey_nhl", "soccer_epl"} <= keys
    assert len({lg.sport for lg in leagues}) >= 8
    for key in ("americanfootball_nfl", "soccer_uefa_champs_league", sorted(keys)[-1]):
        assert await sim.events(key), key


async def test_outcomes_are_named_like_the_odds_api() -> None:
    sim = Simulator(seed=1, leagues=20, clock=lambda: T0)
    for league in ("basketball_nba", "soccer_epl"):
        raw = (await sim.odds(league, MARKETS))[0]
        odds = odds_from_api(raw)
        for markets in odds.values():
            teams = {raw["home_team"], raw["away_team"]}
            assert set(markets["h2h"]) == (teams | {"Draw"} if league == "soccer_epl" else teams)
            assert set(markets["spreads"]) == teams
            assert set(markets["totals"]) == {"Over", "Under"}
            spread = markets["spreads"]
            assert spread[raw["home_team"]]["point"] == -spread[raw["away_team"]]["point"]


async def test_prices_drift_over_time() -> None:
    now = [T0]
    sim = Simulator(seed=5, leagues=10, clock=lambda: now[0])
    first = await sim.odds("basketball_nba", MARKETS)
    now[0] += 600
    later = await sim.odds("basketball_nba", MARKETS)
    ids = {e["id"] for e in first} & {e["id"] for e in later}
    before = {e["id"]: odds_from_api(e) for e in first if e["id"] in ids}
    after = {e["id"]: odds_from_api(e) for e in later if e["id"] in ids}
    moved = sum(1 for eid in ids if before[eid] != after[eid])
    assert moved > len(ids) // 2


async def test_games_go_from_scheduled_to_final_with_a_score() -> None:
    now = [T0]
    sim = Simulator(seed=9, leagues=6, game_minutes=60, clock=lambda: now[0])
    poller = Poller(sim, Scheduler(Tiers(30, 300, 1800), MARKETS, 72 * 3_600_000), final_linger_ms=48 * 3_600_000)
    await poller.bootstrap()
    seen: dict[str, list[str]] = {}
    for _ in range(60):
        await poller.tick()
        for ev in poller.state["icehockey_nhl"].values():
            path = seen.setdefault(ev["id"], [])
            if not path or path[-1] != ev["status"]:
                path.append(ev["status"])
        now[0] += 1800
    full = [p for p in seen.values() if p[0] == "scheduled" and p[-1] == "final"]
    assert full and all(p == ["scheduled", "upcoming", "live", "final"] for p in full)
    finals = [ev for ev in poller.state["icehockey_nhl"].values() if ev["status"] == "final"]
    assert finals and all(ev["scores"] is not None and ev["odds"] == {} for ev in finals)


def test_a_live_game_has_its_sports_period_and_clock() -> None:
    assert game_clock("basketball", 0.0) == ("Q1", "12:00")
    assert game_clock("basketball", 0.74) == ("Q3", "0:29")  # a quarter's clock counts down
    assert game_clock("icehockey", 0.5) == ("P2", "10:00")
    assert game_clock("soccer", 0.26) == ("1st half", "24'")  # soccer counts the minutes up
    assert game_clock("soccer", 0.5) == ("2nd half", "46'")
    assert game_clock("soccer", 1.0) == ("2nd half", "90'")
    assert game_clock("baseball", 0.5) == ("Bottom 5th", None)  # innings have no clock
    assert game_clock("baseball", 0.0) == ("Top 1st", None)
    assert game_clock("tennis", 0.5) is None


async def test_live_scores_carry_period_and_clock_and_finals_drop_them() -> None:
    now = [T0]
    sim = Simulator(seed=9, leagues=6, game_minutes=60, clock=lambda: now[0])
    poller = Poller(sim, Scheduler(Tiers(30, 300, 1800), MARKETS, 72 * 3_600_000), final_linger_ms=48 * 3_600_000)
    await poller.bootstrap()
    live: list[dict[str, object]] = []
    finals: list[dict[str, object]] = []
    for _ in range(60):
        await poller.tick()
        events = list(poller.state["basketball_nba"].values())
        live += [ev["scores"] for ev in events if ev["status"] == "live" and ev["scores"]]
        finals += [ev["scores"] for ev in events if ev["status"] == "final"]
        now[0] += 600
    assert live and finals
    for scores in live:
        assert str(scores["period"]).startswith("Q") and ":" in str(scores["clock"]), scores
    assert all(set(s) == {"home", "away"} for s in finals)


async def test_cancelled_games_close_without_a_score() -> None:
    now = [T0]
    sim = Simulator(seed=9, leagues=12, game_minutes=60, clock=lambda: now[0])
    poller = Poller(sim, Scheduler(Tiers(30, 300, 1800), MARKETS, 72 * 3_600_000), final_linger_ms=48 * 3_600_000)
    await poller.bootstrap()
    cancelled: list[dict[str, object]] = []
    for _ in range(60):
        await poller.tick()
        cancelled = [ev for st in poller.state.values() for ev in st.values() if ev["status"] == "cancelled"]
        if cancelled:
            break
        now[0] += 1800
    assert cancelled
    for ev in cancelled:
        assert ev["odds"] == {} and all(not m["open"] for m in ev["markets"].values())  # type: ignore[attr-defined]


async def test_a_believable_slate_unique_matchups_per_day_and_kick_offs_on_the_half_hour() -> None:
    """The demo's board: no matchup twice in a league's day, no team in two games at once."""
    checked = 0
    for day in range(3):  # three days of the schedule
        sim = Simulator(seed=42, leagues=110, clock=lambda: T0, start_ms=int((T0 + day * 86_400) * 1000))
        for league in ("basketball_nba", "americanfootball_nfl", "soccer_epl", "handball_argentina_league"):
            events = await sim.events(league)
            by_day: dict[str, list[frozenset[str]]] = {}
            by_start: dict[str, list[str]] = {}
            for ev in events:
                start = ev["commence_time"]
                assert start[14:] in ("00:00Z", "30:00Z"), start
                by_day.setdefault(start[:10], []).append(frozenset((ev["home_team"], ev["away_team"])))
                by_start.setdefault(start, []).extend((ev["home_team"], ev["away_team"]))
            for pairs in by_day.values():
                assert len(pairs) == len(set(pairs))
                checked += len(pairs)
            for teams in by_start.values():
                assert len(teams) == len(set(teams))
    assert checked > 100
