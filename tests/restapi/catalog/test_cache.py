"""The catalog cache: hits after the first read, invalidation from the odds stream, counters in /metrics."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from restapi.catalog import service
from restapi.keys import CATALOG_CACHE
from shared.redis import create_client
from tests.helpers import scaled, wait_for
from tests.restapi.catalog.conftest import Filled
from tests.restapi.catalog.helpers import move_price


def _counter(metrics: str, endpoint: str, result: str) -> float:
    m = re.search(rf'catalog_cache_requests_total{{endpoint="{endpoint}",result="{result}"}} ([0-9.e+]+)', metrics)
    return float(m.group(1)) if m else 0.0


async def test_second_read_is_a_hit_and_metrics_count_both(filled: Filled) -> None:
    client = filled.client
    await asyncio.wait_for(client.app[CATALOG_CACHE].ready.wait(), scaled(10))
    before = await (await client.get("/metrics")).text()
    first = await client.get("/api/v1/betting/odds?league=basketball_nba")
    second = await client.get("/api/v1/betting/odds?league=basketball_nba")
    assert first.headers["X-Cache"] == "miss" and second.headers["X-Cache"] == "hit"
    assert await first.read() == await second.read()
    other = await client.get("/api/v1/betting/odds?league=basketball_nba&limit=3")
    assert other.headers["X-Cache"] == "miss"  # keyed per query
    after = await (await client.get("/metrics")).text()
    assert _counter(after, "odds", "hit") - _counter(before, "odds", "hit") == 1
    assert _counter(after, "odds", "miss") - _counter(before, "odds", "miss") == 2


async def test_a_new_stream_entry_invalidates_reads_of_its_league(filled: Filled) -> None:
    client = filled.client
    cache = client.app[CATALOG_CACHE]
    league, other = "basketball_nba", "icehockey_nhl"
    await asyncio.wait_for(cache.ready.wait(), scaled(10))
    assert (await client.get(f"/api/v1/betting/odds?league={league}")).headers["X-Cache"] == "miss"
    assert (await client.get(f"/api/v1/betting/odds?league={other}")).headers["X-Cache"] == "miss"
    assert (await client.get(f"/api/v1/betting/odds?league={league}")).headers["X-Cache"] == "hit"

    # Ingest moves a price of one NBA game: in PostgreSQL, then on the stream.
    moved = await move_price(filled, cache, league)
    eid, book, market, outcome, new_price = moved.event, moved.book, moved.market, moved.outcome, moved.price

    fresh = await client.get(f"/api/v1/betting/odds?league={league}&event={eid}")
    assert fresh.headers["X-Cache"] == "miss"
    body = await fresh.json()
    prices = [oc["price"] for bm in body["events"][0]["bookmakers"] if bm["key"] == book
              for m in bm["markets"] if m["key"] == market for oc in m["outcomes"] if oc["name"] == outcome]
    assert prices == [new_price]
    assert (await client.get(f"/api/v1/betting/odds?league={other}")).headers["X-Cache"] == "hit"


async def test_sidebar_is_cached_until_an_event_level_change(filled: Filled) -> None:
    client = filled.client
    cache = client.app[CATALOG_CACHE]
    await asyncio.wait_for(cache.ready.wait(), scaled(10))
    assert (await client.get("/api/v1/shared/sidebar")).headers["X-Cache"] == "miss"
    assert (await client.get("/api/v1/shared/sidebar")).headers["X-Cache"] == "hit"
    gen = cache.generation(None, catalog=True)
    poller = filled.pipeline.poller
    poller.provider._t0 -= 3 * 3600  # type: ignore[attr-defined]  # three simulated hours pass
    await poller.tick()
    await wait_for(lambda: cache.generation(None, catalog=True) != gen, what="catalog invalidation")
    assert (await client.get("/api/v1/shared/sidebar")).headers["X-Cache"] == "miss"


async def test_reads_still_work_when_redis_is_gone(filled: Filled) -> None:
    client = filled.client
    cache = client.app[CATALOG_CACHE]
    cache.redis = create_client("redis://127.0.0.1:1/0")  # nothing listens there
    resp = await client.get("/api/v1/shared/sports")
    assert resp.status == 200 and resp.headers["X-Cache"] == "miss"
    await cache.redis.aclose()


async def test_concurrent_misses_of_one_read_load_it_once(filled: Filled, monkeypatch: pytest.MonkeyPatch) -> None:
    client = filled.client
    cache = client.app[CATALOG_CACHE]
    await asyncio.wait_for(cache.ready.wait(), scaled(10))
    loads = 0
    real = service.odds_page

    async def counted(*args: Any, **kw: Any) -> Any:
        nonlocal loads
        loads += 1
        return await real(*args, **kw)

    monkeypatch.setattr(service, "odds_page", counted)  # the real query still runs; this only counts
    responses = await asyncio.gather(*(client.get("/api/v1/betting/odds?sport=soccer&limit=7") for _ in range(8)))
    bodies = {await r.read() for r in responses}
    assert len(bodies) == 1 and all(r.status == 200 for r in responses)
    assert loads == 1 and not cache.inflight


async def test_a_failed_load_is_not_cached(filled: Filled) -> None:
    err = await filled.client.get("/api/v1/betting/odds?league=basketball_xyz")
    assert err.status == 404
    again = await filled.client.get("/api/v1/betting/odds?league=basketball_xyz")
    assert again.status == 404 and again.headers.get("X-Cache") is None
