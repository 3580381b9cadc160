"""The jobs process's operational gauges: grader lag from legs pending on finished games and from the
``results`` consumer group, overdue weekly closes, open risk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient
from prometheus_client import REGISTRY

from restapi.betting.grader import GROUP
from restapi.config import RestSettings
from restapi.jobs.opsmetrics import OpsMetrics
from shared import streams
from shared.daemon import DaemonContext
from shared.db import create_pool
from tests.restapi.betting.conftest import Book, place, sql, straight


def _value(name: str) -> float | None:
    return REGISTRY.get_sample_value(name)


async def test_pending_legs_on_a_finished_game_and_the_unread_results_show_as_grader_lag(
        client: TestClient, book: Book, settings: RestSettings, redis: aioredis.Redis) -> None:
    status, _ = await place(client, book, straight(stake=1500))
    assert status == 201
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # a Tuesday noon
    await sql(book.dsn, "UPDATE events SET status = 'final', home_score = 100, away_score = 90, "
                        "completed_at = %s WHERE id = 'ev1'", (now - timedelta(minutes=7),))
    await redis.xgroup_create(streams.RESULTS, GROUP, id="0", mkstream=True)
    for _ in range(3):
        await redis.xadd(streams.RESULTS, streams.encode_result("ev1", "basketball_nba", "final", 100, 90))
    pool = await create_pool(book.dsn)
    try:
        job = OpsMetrics(DaemonContext(pool, redis, 0), settings, clock=lambda: now)
        await job.tick()
        assert _value("grader_pending_final_legs") == 1
        assert _value("grader_oldest_pending_final_seconds") == 7 * 60
        assert _value("grader_stream_lag_entries") == 3 and _value("grader_stream_pending_entries") == 0
        assert _value("bets_open_risk_cents") == 1500
        assert (_value("weekly_close_overdue_weeks") or 0) >= 2  # two agents, no week closed yet

        await sql(book.dsn, "UPDATE bet_legs SET result = 'won'")
        await redis.xreadgroup(GROUP, "g1", {streams.RESULTS: ">"}, count=2)
        await job.tick()
        assert _value("grader_pending_final_legs") == 0 and _value("grader_oldest_pending_final_seconds") == 0
        assert _value("grader_stream_lag_entries") == 1 and _value("grader_stream_pending_entries") == 2
    finally:
        pool.close()
        await pool.wait_closed()
