"""The Odds API client against a real local HTTP server serving fixture files."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiopg
import pytest
from prometheus_client import REGISTRY

from ingest.model import odds_from_api, scores_from_api
from ingest.pipeline import Board, Poller
from ingest.providers import CallSkipped, ProviderError
from ingest.providers.quota import Quota
from ingest.providers.theoddsapi import QuotaExhausted, TheOddsApi
from ingest.scheduler import Scheduler, Tiers
from ingest.store import Store
from tests.helpers import captured_json_logs, wait_for
from tests.ingest.oddsapi_server import KEY, FakeOddsApi

MARKETS = ("h2h", "spreads", "totals")
NBA1 = "bda33adca828c09dc3cac3a856aef176"
NBA2 = "1c5b3a2ce6cb9b8f8a2d1e4f7a6b5c3d"
NHL1 = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"


@pytest.fixture
def fake() -> FakeOddsApi:
    return FakeOddsApi()


@pytest.fixture
async def api(aiohttp_server, fake: FakeOddsApi) -> AsyncIterator[TheOddsApi]:  # type: ignore[no-untyped-def]
    server = await aiohttp_server(fake.app())
    client = TheOddsApi(str(server.make_url("")), KEY, daily_budget=100, retries=3, backoff=0.001,
                        rng=random.Random(1))
    yield client
    await client.close()


async def test_reads_documented_shapes_and_quota_headers(api: TheOddsApi, fake: FakeOddsApi) -> None:
    sports = await api.sports()
    assert sports[1]["key"] == "basketball_nba" and sports[1]["group"] == "Basketball"
    assert api.quota.last == 0  # /sports is free
    odds = await api.odds("basketball_nba", MARKETS)
    assert api.quota.last == 3 and api.quota.remaining == 497 and api.quota.used == 3
    assert api.quota.spent_today == 3
    path, query = fake.requests[-1]
    assert path == "/v4/sports/basketball_nba/odds"
    assert query["markets"] == "h2h,spreads,totals" and query["oddsFormat"] == "american"
    assert query["regions"] == "us" and query["dateFormat"] == "iso"
    parsed = odds_from_api(odds[0])
    assert parsed["fanduel"]["h2h"]["Boston Celtics"]["price"] == -303
    assert parsed["fanduel"]["spreads"]["Los Angeles Lakers"]["point"] == 6.5
    assert parsed["draftkings"]["totals"]["Over"] == {"price": -110, "point": 222.0, "t": 1623321891000}
    scores = await api.scores("basketball_nba", days_from=1)
    assert api.quota.last == 2 and fake.requests[-1][1]["daysFrom"] == "1"
    assert scores[0]["completed"] is True and scores_from_api(scores[0]) == {"home": 112, "away": 104}


async def test_backs_off_on_429_and_5xx_then_succeeds(api: TheOddsApi, fake: FakeOddsApi) -> None:
    fake.failures = [(429, {"Retry-After": "0"}), (503, {}), (500, {})]
    events = await api.events("basketball_nba")
    assert [e["id"] for e in events] == [NBA1, NBA2]
    assert len(fake.requests) == 4


async def test_gives_up_after_the_retries(api: TheOddsApi, fake: FakeOddsApi) -> None:
    fake.failures = [(502, {})] * 10
    with pytest.raises(ProviderError, match="gave up after 4"):
        await api.events("basketball_nba")
    assert len(fake.requests) == 4


async def test_a_client_error_is_not_retried(aiohttp_server, fake: FakeOddsApi) -> None:  # type: ignore[no-untyped-def]
    server = await aiohttp_server(fake.app())
    bad = TheOddsApi(str(server.make_url("")), "wrong-key", retries=3, backoff=0.001)
    try:
        with pytest.raises(ProviderError, match="HTTP 401"):
            await bad.sports()
    finally:
        await bad.close()
    assert len(fake.requests) == 1


def test_backoff_is_jittered_exponential_and_honours_retry_after() -> None:
    api = TheOddsApi("http://x", KEY, backoff=1.0, rng=random.Random(3))
    delays = [api._delay(n, None) for n in range(4)]
    for n, d in enumerate(delays):
        assert 0.5 * 2 ** n <= d <= 1.5 * 2 ** n
    assert len({round(d / 2 ** n, 6) for n, d in enumerate(delays)}) > 1  # jitter, not a fixed factor
    assert api._delay(0, "30") >= 30


async def test_daily_budget_refuses_a_call_before_sending_it(aiohttp_server, fake: FakeOddsApi) -> None:  # type: ignore[no-untyped-def]
    server = await aiohttp_server(fake.app())
    api = TheOddsApi(str(server.make_url("")), KEY, daily_budget=5, backoff=0.001)
    try:
        await api.odds("basketball_nba", MARKETS)  # 3 credits of 5
        sent = len(fake.requests)
        with pytest.raises(QuotaExhausted):
            await api.odds("basketball_nba", MARKETS)
        assert len(fake.requests) == sent  # nothing was spent
        assert await api.scores("basketball_nba")  # 1 credit still fits
    finally:
        await api.close()


def test_quota_slows_down_as_it_runs_out_and_resets_each_day() -> None:
    now = [86400.0 * 100]
    quota = Quota(100, clock=lambda: now[0])
    assert quota.slowdown() == 1.0
    quota.record({"x-requests-last": "60", "x-requests-remaining": "1000"})
    assert quota.allowance() == 40 and quota.slowdown() > 1.0
    quota.record({"x-requests-last": "36"})
    assert quota.allowance() == 4 and quota.slowdown() == 8.0
    quota.record({"x-requests-remaining": "2"})  # the plan itself is nearly used up
    assert quota.allowance() == 2
    now[0] += 86400
    quota.record({"x-requests-remaining": "900"})
    assert quota.allowance() == 100 and quota.slowdown() == 1.0


async def test_poller_spends_nothing_on_leagues_without_games_in_the_window(api: TheOddsApi,
                                                                           fake: FakeOddsApi) -> None:
    now = datetime.now(UTC)
    fake.commence = {NBA1: (now - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                     NBA2: (now + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                     NHL1: (now + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    fake.completed = False
    poller = Poller(api, Scheduler(Tiers(), MARKETS, 72 * 3_600_000))
    await poller.bootstrap()
    assert set(poller.leagues) == {"americanfootball_nfl", "basketball_nba", "icehockey_nhl", "soccer_epl"}
    await poller.tick()  # discovery (free)
    await poller.tick()  # odds and scores where there are games
    paid = [(p, q) for p, q in fake.requests if p.endswith(("/odds", "/scores"))]
    assert {p for p, _ in paid} == {"/v4/sports/basketball_nba/odds", "/v4/sports/basketball_nba/scores"}
    nba = poller.state["basketball_nba"]
    assert nba[NBA1]["status"] == "live" and nba[NBA2]["status"] == "upcoming"
    assert nba[NBA1]["odds"]["fanduel"]["h2h"]["Boston Celtics"]["price"] == -303
    assert nba[NBA1]["scores"] == {"home": 112, "away": 104}
    assert poller.state["icehockey_nhl"][NHL1]["status"] == "scheduled"  # known, but not worth a credit
    before = len(fake.requests)
    await poller.tick()  # nothing is due again yet: no call at all
    assert len(fake.requests) == before


async def test_poller_closes_a_completed_game_and_announces_the_result(api: TheOddsApi,
                                                                      fake: FakeOddsApi) -> None:
    now = datetime.now(UTC)
    fake.commence = {NBA1: (now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                     NBA2: (now + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    poller = Poller(api, Scheduler(Tiers(), MARKETS, 72 * 3_600_000), league_filter=("basketball_nba",))
    await poller.bootstrap()
    await poller.tick()
    await poller.tick()
    ev = poller.state["basketball_nba"][NBA1]
    assert ev["status"] == "final" and ev["odds"] == {} and ev["scores"] == {"home": 112, "away": 104}
    assert all(not m["open"] for m in ev["markets"].values())


async def test_a_league_that_comes_into_season_is_picked_up_and_stored(api: TheOddsApi, fake: FakeOddsApi,
                                                                       pg: aiopg.Pool) -> None:
    board = Board()
    poller = Poller(api, Scheduler(Tiers(30, 300, 0.05), MARKETS, 72 * 3_600_000), board=board,
                    store=Store(pg, board.full_state, board.league_list))
    await poller.bootstrap()
    await poller.tick()
    assert "baseball_mlb" not in poller.leagues
    fake.extra_sports = [{"key": "baseball_mlb", "group": "Baseball", "title": "MLB",
                          "description": "Major League Baseball", "active": True, "has_outrights": False}]

    async def picked_up() -> bool:
        await poller.tick()
        return "baseball_mlb" in poller.leagues

    await wait_for(picked_up, what="new league")
    async with pg.acquire() as conn, conn.cursor() as cur:
        await cur.execute("SELECT sport, title FROM leagues WHERE key = 'baseball_mlb'")
        assert await cur.fetchall() == [("baseball", "MLB")]


def _metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_budget_of_4_spends_at_most_4_whatever_the_concurrency(aiohttp_server, fake: FakeOddsApi) -> None:  # type: ignore[no-untyped-def]
    """Credits are reserved before a call is sent, so concurrent calls cannot all pass the check."""
    server = await aiohttp_server(fake.app())
    api = TheOddsApi(str(server.make_url("")), KEY, daily_budget=4, backoff=0.001)
    try:
        leagues = ["basketball_nba", "icehockey_nhl", "soccer_epl", "americanfootball_nfl"]
        calls = [api.odds(lg, ("h2h",)) for lg in leagues * 2] + [api.odds(lg, MARKETS) for lg in leagues]
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
        assert fake.used == 4 and api.quota.spent_today == 4 and api.quota.reserved == 0
        assert sum(1 for o in outcomes if isinstance(o, list)) == 4
        assert all(isinstance(o, QuotaExhausted) for o in outcomes if not isinstance(o, list))
        assert not api.can_spend(1)
    finally:
        await api.close()


async def test_the_reservation_is_settled_from_x_requests_last(aiohttp_server, fake: FakeOddsApi) -> None:  # type: ignore[no-untyped-def]
    server = await aiohttp_server(fake.app())
    api = TheOddsApi(str(server.make_url("")), KEY, daily_budget=10, backoff=0.001)
    try:
        await api.odds("basketball_nba", MARKETS, ("no-such-event",))  # the provider charged 3
        assert api.quota.spent_today == 3 and api.quota.reserved == 0
        fake.failures = [(500, {})]  # an error answer is retried and charged nothing
        await api.scores("basketball_nba")
        assert api.quota.spent_today == 4 == fake.used and api.quota.reserved == 0
    finally:
        await api.close()


async def test_a_failing_endpoint_backs_off_exponentially_and_alone(aiohttp_server, fake: FakeOddsApi) -> None:  # type: ignore[no-untyped-def]
    server = await aiohttp_server(fake.app())
    now = [1_800_000_000.0]
    api = TheOddsApi(str(server.make_url("")), KEY, retries=0, backoff=10.0, rng=random.Random(2),
                     clock=lambda: now[0])
    bad = "/v4/sports/icehockey_nhl/events"
    fake.missing = {bad}
    try:
        with pytest.raises(ProviderError, match="HTTP 404"):
            await api.events("icehockey_nhl")
        gaps: list[int] = []
        while len(gaps) < 4:
            waited = 0
            while True:  # one call a second, as the ticks would, until one is sent again
                now[0] += 1
                waited += 1
                sent = len(fake.requests)
                try:
                    await api.events("icehockey_nhl")
                except CallSkipped as exc:
                    assert exc.reason == "backoff" and exc.counted == (waited == 1)  # a window counts once
                    assert len(fake.requests) == sent  # nothing was sent
                    continue
                except ProviderError as exc:
                    assert "HTTP 404" in str(exc)
                    break
            gaps.append(waited)
            assert await api.events("basketball_nba")  # another endpoint is not held back
        assert all(5 <= g <= 15 * 2 ** n + 1 for n, g in enumerate(gaps)), gaps
        assert gaps[3] > gaps[0]  # exponential: 40-120 s after four failures, 5-15 s after one
        fake.missing = set()
        now[0] += 3600
        assert await api.events("icehockey_nhl")
    finally:
        await api.close()


async def test_a_refused_key_stops_every_call_with_a_metric_and_a_log_line(aiohttp_server, fake: FakeOddsApi) -> None:  # type: ignore[no-untyped-def]
    server = await aiohttp_server(fake.app())
    api = TheOddsApi(str(server.make_url("")), "revoked-key", backoff=0.001)
    try:
        with captured_json_logs() as logs:
            with pytest.raises(ProviderError, match="HTTP 401"):
                await api.sports()
            for _ in range(3):
                with pytest.raises(CallSkipped) as info:
                    await api.odds("basketball_nba", MARKETS)
                assert info.value.reason == "auth"
        assert len(fake.requests) == 1
        assert _metric("ingest_provider_auth_failed", provider="theoddsapi") == 1
        alerts = [line for line in logs if line.get("alert") == "provider_auth_failed"]
        assert len(alerts) == 1 and alerts[0]["level"] == "ERROR" and "revoked-key" not in str(alerts[0])
    finally:
        await api.close()


async def test_skip_counters_count_calls_actually_skipped_not_ticks(api: TheOddsApi, fake: FakeOddsApi) -> None:
    now = datetime.now(UTC)
    fake.commence = {NBA1: (now + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                     NBA2: (now + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                     NHL1: (now + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    poller = Poller(api, Scheduler(Tiers(), MARKETS, 72 * 3_600_000))
    await poller.bootstrap()
    no_games = _metric("ingest_calls_skipped_total", reason="no_games")
    saved = _metric("ingest_calls_saved_total")
    for _ in range(20):  # twenty ticks within one interval: the idle leagues were skipped once each
        await poller.tick()
    idle = _metric("ingest_calls_skipped_total", reason="no_games") - no_games
    assert idle == len(poller.leagues) - 1  # every league but the NBA, once
    assert _metric("ingest_calls_saved_total") == saved  # one tier due: nothing merged, nothing saved


async def test_a_game_long_past_its_start_without_a_score_leaves_the_board_until_its_result(
        aiohttp_server, fake: FakeOddsApi, pg: aiopg.Pool) -> None:  # type: ignore[no-untyped-def]
    """NBA games last at most 4 h: 5 h after the start with no score, the game awaits its result."""
    server = await aiohttp_server(fake.app())
    now = [datetime.now(UTC).timestamp()]
    api = TheOddsApi(str(server.make_url("")), KEY, backoff=0.001, clock=lambda: now[0])
    started = (datetime.fromtimestamp(now[0], UTC) - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    fake.commence = {NBA1: started, NBA2: started}
    fake.no_scores = {NBA2}
    board = Board()
    poller = Poller(api, Scheduler(Tiers(30, 300, 1800), MARKETS, 72 * 3_600_000), board=board,
                    store=Store(pg, board.full_state, board.league_list), league_filter=("basketball_nba",))
    try:
        await poller.bootstrap()
        for _ in range(3):
            await poller.tick()
            now[0] += 1
        nba = poller.state["basketball_nba"]
        assert nba[NBA1]["status"] == "final" and nba[NBA1]["scores"] == {"home": 112, "away": 104}
        stale = nba[NBA2]
        assert stale["status"] == "awaiting" and stale["odds"] == {}
        assert not any(m["open"] for m in stale["markets"].values())
        async with pg.acquire() as conn, conn.cursor() as cur:
            await cur.execute("SELECT e.status, bool_or(m.is_open) FROM events e JOIN markets m ON m.event_id = e.id "
                              "WHERE e.id = %s GROUP BY e.status", (NBA2,))
            assert await cur.fetchall() == [("awaiting", False)]
        paid = len(fake.paid(""))
        for _ in range(5):  # within the slow interval no further paid call is made for it
            await poller.tick()
            now[0] += 1
        assert len(fake.paid("")) == paid
        fake.no_scores, fake.finished = set(), {NBA2}  # the result comes in late
        now[0] += 1800
        await poller.tick()
        assert poller.state["basketball_nba"][NBA2]["status"] == "final"
        assert poller.state["basketball_nba"][NBA2]["scores"] == {"home": 51, "away": 48}
    finally:
        await api.close()
