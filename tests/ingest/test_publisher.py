"""The Redis contract: XADD and snapshot in one MULTI, epochs, results, and surviving Redis outages."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from devtools.devservers import EmbeddedRedis
from ingest.differ import apply
from ingest.pipeline import Board, Poller
from ingest.providers.simulator import Simulator
from ingest.publisher import Publisher
from ingest.scheduler import Scheduler, Tiers
from shared import streams
from shared.redis import Redis, create_client
from tests.helpers import wait_for

MARKETS = ("h2h", "spreads", "totals")
HOUR = 3600.0


def _poller(redis: Redis, clock: list[float], leagues: int = 6, buffer_max: int = 1000) -> Poller:
    sim = Simulator(seed=3, leagues=leagues, speed=1.0, clock=lambda: clock[0])
    board = Board()
    publisher = Publisher(redis, board.full_state, maxlen=100_000, buffer_max=buffer_max)
    return Poller(sim, Scheduler(Tiers(), MARKETS, 72 * 3_600_000), board=board, publisher=publisher,
                  final_linger_ms=3_600_000)


async def _snap(redis: Redis, league: str) -> tuple[dict[str, Any], str | None, str | None]:
    raw = await redis.hgetall(streams.snap_key(league))
    fields = {k.decode(): v for k, v in raw.items()}
    offset, epoch = fields.pop("_offset", None), fields.pop("_epoch", None)
    return ({k: orjson.loads(v) for k, v in fields.items()}, offset and offset.decode(),
            epoch and epoch.decode())


async def _run(poller: Poller, clock: list[float], ticks: int, step: float) -> None:
    for _ in range(ticks):
        await poller.tick()
        clock[0] += step


async def test_snapshot_equals_the_stream_replayed_and_offset_is_the_last_entry(redis: Redis) -> None:
    clock = [1_800_000_000.0]
    poller = _poller(redis, clock)
    await poller.bootstrap()
    await _run(poller, clock, 8, 0.25 * HOUR)
    for league in poller.leagues:
        entries = await redis.xrange(streams.odds_stream(league))
        snap, offset, epoch = await _snap(redis, league)
        assert entries and epoch
        assert offset == entries[-1][0].decode()
        replayed: dict[str, Any] = {}
        for _id, fields in entries:
            replayed = apply(streams.decode_odds(fields)["changes"], replayed)
        assert replayed == snap == poller.state[league]
        ids = [e[0].decode() for e in entries]
        assert ids == sorted(ids, key=lambda s: tuple(map(int, s.split("-"))))


async def test_a_concurrent_reader_never_sees_offset_and_stream_apart(redis: Redis, redis_url: str) -> None:
    clock = [1_800_000_000.0]
    poller = _poller(redis, clock, leagues=3)
    await poller.bootstrap()
    league = "americanfootball_nfl"
    reader = create_client(redis_url)
    done = asyncio.Event()
    checked = 0

    async def read() -> None:
        nonlocal checked
        while not done.is_set():
            pipe = reader.pipeline(transaction=True)
            pipe.hget(streams.snap_key(league), "_offset")
            pipe.xrevrange(streams.odds_stream(league), count=1)
            offset, top = await pipe.execute()
            if top:
                assert offset == top[0][0]
                checked += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(read())
    await _run(poller, clock, 12, 0.2 * HOUR)
    done.set()
    await task
    await reader.aclose()
    assert checked > 0


async def test_final_scores_go_to_the_results_stream_once(redis: Redis) -> None:
    clock = [1_800_000_000.0]
    poller = _poller(redis, clock)
    await poller.bootstrap()
    await _run(poller, clock, 30, 0.25 * HOUR)
    entries = await redis.xrange(streams.RESULTS)
    results = [streams.decode_result(f) for _, f in entries]
    assert any(r["status"] == "final" for r in results)
    assert len({r["event"] for r in results}) == len(results)  # each game announced once
    for r in results:
        assert r["sport"] in poller.leagues
        if r["status"] == "final":
            assert r["home"] is not None and r["away"] is not None


async def test_restart_continues_from_the_snapshot_in_redis(redis: Redis) -> None:
    clock = [1_800_000_000.0]
    first = _poller(redis, clock)
    await first.bootstrap()
    await _run(first, clock, 3, 60)
    _snap_before, offset_before, epoch_before = await _snap(redis, "basketball_nba")
    second = _poller(redis, clock)
    await second.bootstrap()
    assert second.state == first.state
    await second.tick()
    snap, offset, epoch = await _snap(redis, "basketball_nba")
    assert epoch == epoch_before  # the same life of the stream: clients keep their offsets
    assert offset != offset_before and snap == second.state["basketball_nba"]


async def test_redis_outage_buffers_then_catches_up_with_a_new_epoch(own_redis: EmbeddedRedis) -> None:
    redis = create_client(own_redis.url)
    clock = [1_800_000_000.0]
    poller = _poller(redis, clock, leagues=4)
    try:
        await poller.bootstrap()
        await _run(poller, clock, 2, 60)
        _s, _o, epoch = await _snap(redis, "basketball_nba")
        own_redis.stop()
        await _run(poller, clock, 4, 0.5 * HOUR)  # keeps polling; nothing raises
        assert poller.publisher is not None and poller.publisher.buffered() > 0
        own_redis.start()  # a fresh server: everything Redis held is gone
        await _run(poller, clock, 1, 60)

        async def caught_up() -> bool:
            assert poller.publisher is not None
            await poller.publisher.flush()
            return poller.publisher.buffered() == 0 and not poller.publisher.resync_needed

        await wait_for(caught_up, what="publisher catch-up")
        for league in poller.leagues:
            snap, offset, new_epoch = await _snap(redis, league)
            assert snap == poller.state[league]
            top = await redis.xrevrange(streams.odds_stream(league), count=1)
            assert offset == top[0][0].decode()
        assert (await _snap(redis, "basketball_nba"))[2] != epoch
    finally:
        await redis.aclose()


async def test_buffer_overflow_resyncs_the_league(own_redis: EmbeddedRedis) -> None:
    redis = create_client(own_redis.url)
    clock = [1_800_000_000.0]
    poller = _poller(redis, clock, leagues=3, buffer_max=2)
    try:
        await poller.bootstrap()
        await _run(poller, clock, 2, 60)
        epoch = (await _snap(redis, "basketball_nba"))[2]
        own_redis.stop()
        await _run(poller, clock, 6, 0.5 * HOUR)
        assert poller.publisher is not None
        assert all(len(q) <= 2 for q in poller.publisher.pending.values())
        assert "basketball_nba" in poller.publisher.resync_needed
        own_redis.start()
        await wait_for(poller.publisher.flush, what="flush")
        snap, _offset, new_epoch = await _snap(redis, "basketball_nba")
        assert snap == poller.state["basketball_nba"] and new_epoch != epoch
    finally:
        await redis.aclose()


async def test_quiet_leagues_are_republished_under_a_new_epoch_after_redis_lost_its_data(
        own_redis: EmbeddedRedis) -> None:
    """No league changes after Redis comes back empty, yet every league's snapshot is back within a tick."""
    redis = create_client(own_redis.url)
    clock = [1_800_000_000.0]
    poller = _poller(redis, clock, leagues=6)
    try:
        await poller.bootstrap()
        await _run(poller, clock, 3, 60)
        await poller.tick()
        before = {lg: (await _snap(redis, lg))[2] for lg in poller.leagues}
        assert all(before.values())
        own_redis.stop()
        own_redis.start()  # no dump: the server comes back empty
        assert await redis.exists(*(streams.snap_key(lg) for lg in poller.leagues)) == 0
        assert await poller.tick() == 0  # the clock did not move: the provider has nothing new
        for league in poller.leagues:
            snap, offset, epoch = await _snap(redis, league)
            assert epoch and epoch != before[league]
            assert snap == poller.state[league]
            top = await redis.xrevrange(streams.odds_stream(league), count=1)
            assert offset == top[0][0].decode()
        assert any(poller.state[lg] for lg in poller.leagues)
    finally:
        await redis.aclose()
