"""The simulator and replay served over real local HTTP as The Odds API, read by the real client."""

from __future__ import annotations

from pathlib import Path

from ingest.pipeline import Poller
from ingest.providers.replay import Recorder, Replay
from ingest.providers.serve import create_app
from ingest.providers.simulator import Simulator
from ingest.providers.theoddsapi import TheOddsApi
from ingest.scheduler import Scheduler, Tiers

MARKETS = ("h2h", "spreads", "totals")
T0 = 1_800_000_000.0


async def test_the_client_reads_the_simulator_over_http_exactly(aiohttp_server) -> None:  # type: ignore[no-untyped-def]
    sim = Simulator(seed=2, leagues=8, clock=lambda: T0)
    server = await aiohttp_server(create_app(sim, credits=1000))
    api = TheOddsApi(str(server.make_url("")), "any", daily_budget=1000, backoff=0.001)
    try:
        assert await api.sports() == await sim.sports()
        assert await api.events("basketball_nba") == await sim.events("basketball_nba")
        odds = await api.odds("basketball_nba", MARKETS)
        assert odds == await sim.odds("basketball_nba", MARKETS)
        some = (odds[0]["id"], odds[2]["id"])
        assert [e["id"] for e in await api.odds("basketball_nba", MARKETS, some)] == list(some)
        assert await api.scores("basketball_nba", days_from=1) == await sim.scores("basketball_nba", days_from=1)
        assert api.quota.used == 8 and api.quota.remaining == 992  # 3 + 3 (odds) + 2 (scores, daysFrom)
    finally:
        await api.close()


async def test_ingest_over_http_builds_the_same_state_as_in_process(aiohttp_server) -> None:  # type: ignore[no-untyped-def]
    now = [T0]
    server = await aiohttp_server(create_app(Simulator(seed=2, leagues=6, clock=lambda: now[0])))
    api = TheOddsApi(str(server.make_url("")), "any", daily_budget=100_000, backoff=0.001, clock=lambda: now[0])
    over_http = Poller(api, Scheduler(Tiers(), MARKETS, 72 * 3_600_000))
    direct = Poller(Simulator(seed=2, leagues=6, clock=lambda: now[0]), Scheduler(Tiers(), MARKETS, 72 * 3_600_000))
    try:
        await over_http.bootstrap()
        await direct.bootstrap()
        for _ in range(3):
            await over_http.tick()
            await direct.tick()
            assert over_http.state == direct.state
            now[0] += 1200
    finally:
        await api.close()


async def test_a_recording_replays_over_http(aiohttp_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    now = [T0]
    recorder = Recorder(Simulator(seed=3, leagues=4, clock=lambda: now[0]), tmp_path)
    recorded = Poller(recorder, Scheduler(Tiers(), MARKETS, 72 * 3_600_000))
    await recorded.bootstrap()
    await recorded.tick()
    await recorded.tick()
    await recorder.close()
    clock = [0.0]
    server = await aiohttp_server(create_app(Replay(tmp_path, clock=lambda: clock[0])))
    api = TheOddsApi(str(server.make_url("")), "any", backoff=0.001, clock=lambda: T0 + clock[0])
    played = Poller(api, Scheduler(Tiers(), MARKETS, 72 * 3_600_000))
    try:
        await played.bootstrap()
        await played.tick()
        await played.tick()
        assert played.state == recorded.state
    finally:
        await api.close()
