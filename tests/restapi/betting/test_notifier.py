"""The notify writer: entries keep their order, share round trips, drain on shutdown, and a Redis
failure loses notifications only (never a bet)."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
from aiohttp import web

from restapi.betting.notifier import NotifyWriter, notifier_ctx
from shared import streams
from shared.redis import create_client
from tests.helpers import scaled, wait_for

WRITER: web.AppKey[NotifyWriter] = web.AppKey("test_notify_writer", NotifyWriter)


async def _users(redis: aioredis.Redis) -> list[int]:
    return [streams.decode_notify(f)["user"] for _i, f in await redis.xrange(streams.NOTIFY)]


async def test_entries_queued_meanwhile_go_in_order_in_few_round_trips(redis: aioredis.Redis) -> None:
    writer = NotifyWriter(redis, max_batch=16)
    for user in range(1, 51):  # queued before the writer runs: as under load, while a batch is in flight
        writer.submit(user, "bet.accepted", {"bet_id": user})
    stop = asyncio.Event()
    task = asyncio.create_task(writer.run(stop))
    await asyncio.wait_for(writer.idle.wait(), scaled(5))
    assert await _users(redis) == list(range(1, 51))
    assert writer.batches == 4  # 16 + 16 + 16 + 2, not 50
    writer.submit(51, "bet.accepted", {"bet_id": 51})  # an idle writer wakes for one entry
    await wait_for(lambda: writer.idle.is_set() and not writer.queue, what="the late entry")
    assert (await _users(redis))[-1] == 51
    stop.set()
    writer.wake.set()
    await asyncio.wait_for(task, scaled(5))


async def test_shutdown_drains_what_is_queued(redis_url: str, redis: aioredis.Redis) -> None:
    app = web.Application()
    client = create_client(redis_url)
    app.cleanup_ctx.append(notifier_ctx(WRITER, lambda _app: client))
    runner = web.AppRunner(app)
    await runner.setup()
    for user in range(1, 6):
        app[WRITER].submit(user, "bet.accepted", {"bet_id": user})
    await runner.cleanup()  # no wait in between: the drain writes them
    assert await _users(redis) == [1, 2, 3, 4, 5]
    await client.aclose()


async def test_a_redis_failure_drops_the_batch_and_the_writer_goes_on(redis: aioredis.Redis) -> None:
    dead = create_client("redis://127.0.0.1:1/0")  # nothing listens there
    writer = NotifyWriter(dead)
    writer.submit(1, "bet.accepted", {"bet_id": 1})
    await writer.flush()  # logged and counted, not raised
    assert not writer.queue and writer.batches == 0
    writer.redis = redis
    writer.submit(2, "bet.accepted", {"bet_id": 2})
    await writer.flush()
    assert await _users(redis) == [2]
    await dead.aclose()


async def test_a_full_queue_drops_new_entries_instead_of_growing(redis: aioredis.Redis) -> None:
    writer = NotifyWriter(redis, max_queued=3)
    for user in range(1, 6):
        writer.submit(user, "bet.accepted", {"bet_id": user})
    assert len(writer.queue) == 3
    await writer.flush()
    assert await _users(redis) == [1, 2, 3]
