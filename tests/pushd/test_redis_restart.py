"""Redis restarted mid-stream: the node keeps its sockets, reconnects, and the client sees no gap."""

from __future__ import annotations

import asyncio

import aiohttp
import redis.asyncio as aioredis

from devtools.devservers import EmbeddedRedis
from tests.helpers import wait_for
from tests.pushd.conftest import Connect, StartNode, change, publish

TOPIC = "sport:icehockey_nhl"
SPORT = "icehockey_nhl"


async def _ready(session: aiohttp.ClientSession, node: object) -> int:
    async with session.get(node.make_url("/readyz")) as resp:  # type: ignore[attr-defined]
        return resp.status


async def test_redis_restart_mid_stream_keeps_the_socket_and_loses_nothing(
        start_node: StartNode, connect: Connect, own_redis: EmbeddedRedis) -> None:
    r = aioredis.Redis.from_url(own_redis.url)
    try:
        first = await publish(r, SPORT, [change("h1", 100)])
        node = await start_node(env={"REDIS_URL": own_redis.url})
        client = await connect(node)
        await client.sub([TOPIC], since={TOPIC: {"epoch": "ep1", "offset": first}})
        before = [await publish(r, SPORT, [change("h1", p)]) for p in range(101, 111)]
        await wait_for(lambda: client.offsets(TOPIC) == before, what="frames before the restart")
        await r.save()  # the restarted server reloads this dump: the streams outlive the restart
        await asyncio.to_thread(own_redis.stop)
        async with aiohttp.ClientSession() as session:
            await wait_for(lambda: _ready_is(session, node, 503), what="readyz reports degraded")
            await asyncio.to_thread(own_redis.start)
            await r.aclose()
            r = aioredis.Redis.from_url(own_redis.url)
            after = [await publish(r, SPORT, [change("h1", p)]) for p in range(111, 121)]
            await wait_for(lambda: client.offsets(TOPIC) == before + after, timeout=15,
                           what="frames after the restart, none missing")
            await wait_for(lambda: _ready_is(session, node, 200), timeout=10, what="ready again")
        assert not client.task.done() and client.ops("subscribed")[0]["recovered"] == {TOPIC: True}
    finally:
        await r.aclose()


async def _ready_is(session: aiohttp.ClientSession, node: object, status: int) -> bool:
    return await _ready(session, node) == status


async def test_new_epoch_after_redis_lost_its_data_resyncs_subscribers_with_a_snapshot(
        start_node: StartNode, connect: Connect, own_redis: EmbeddedRedis) -> None:
    r = aioredis.Redis.from_url(own_redis.url)
    try:
        await publish(r, SPORT, [change("h1", 100)], epoch="life-1")
        node = await start_node(env={"REDIS_URL": own_redis.url})
        client = await connect(node)
        await client.sub([TOPIC])
        await asyncio.to_thread(own_redis.stop)
        await asyncio.to_thread(own_redis.start)  # no dump saved: the data is gone
        await r.aclose()
        r = aioredis.Redis.from_url(own_redis.url)
        await publish(r, SPORT, [change("h2", 7)], epoch="life-2")
        snap = await client.wait("snapshot", epoch="life-2", timeout=15)
        assert [e["id"] for e in snap["events"]] == ["h2"]
        nxt = await publish(r, SPORT, [change("h2", 8)], epoch="life-2")
        await wait_for(lambda: client.offsets(TOPIC)[-1:] == [nxt], what="live in the new life")
    finally:
        await r.aclose()
