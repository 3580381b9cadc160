"""Redis restarted mid-stream: the node keeps its sockets, reconnects, and the client sees no gap."""

from __future__ import annotations

import asyncio

import aiohttp
import orjson
import redis.asyncio as aioredis

from devtools.devservers import EmbeddedRedis
from shared import streams
from tests.helpers import wait_for
from tests.pushd.conftest import Connect, StartNode, change, issue_ticket, publish

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
        await client.wait("recovering", topic=TOPIC, timeout=15)
        late = await connect(node, user=2, token=await issue_ticket(r, 2))  # subscribes while the feed is rebuilt
        answer = await late.sub([TOPIC, "event:h1"])
        assert answer["recovered"] == {TOPIC: False, "event:h1": False}
        assert late.has("recovering", topic=TOPIC) and late.has("recovering", topic="event:h1")
        await publish(r, SPORT, [change("h2", 7)], epoch="life-2")
        for c in (client, late):
            snap = await c.wait("snapshot", topic=TOPIC, epoch="life-2", timeout=15)
            assert [e["id"] for e in snap["events"]] == ["h2"]
        nxt = await publish(r, SPORT, [change("h2", 8)], epoch="life-2")
        await wait_for(lambda: client.offsets(TOPIC)[-1:] == [nxt], what="live in the new life")
        await wait_for(lambda: late.offsets(TOPIC)[-1:] == [nxt], what="the late client live too")
        for c in (client, late):  # "no data" was never shown as an empty board
            assert not [f for f in c.ops("snapshot") if f["topic"] == TOPIC and not (f["epoch"] and f["events"])]
    finally:
        await r.aclose()


async def test_a_stream_that_lost_its_last_entries_in_a_failover_resyncs_subscribers(
        start_node: StartNode, connect: Connect, own_redis: EmbeddedRedis) -> None:
    """Same epoch, but the stream now ends before what the node sent: a snapshot, not silence."""
    r = aioredis.Redis.from_url(own_redis.url)
    try:
        first = await publish(r, SPORT, [change("h1", 100)], epoch="life-1")
        node = await start_node(env={"REDIS_URL": own_redis.url})
        client = await connect(node)
        await client.sub([TOPIC])
        await client.wait("snapshot", epoch="life-1")
        sent = [await publish(r, SPORT, [change("h1", 100 + n)], epoch="life-1") for n in (1, 2)]
        await wait_for(lambda: client.offsets(TOPIC)[-2:] == sent, what="the two entries the replica will miss")
        # The promoted replica had only the first entry: same epoch, a stream that ends at `first`.
        await asyncio.to_thread(own_redis.stop)
        await asyncio.to_thread(own_redis.start)
        await r.aclose()
        r = aioredis.Redis.from_url(own_redis.url)
        await r.xadd(streams.odds_stream(SPORT), {"changes": b"[]"}, id=first)
        await r.hset(streams.snap_key(SPORT), mapping={
            streams.SNAP_EPOCH: "life-1", streams.SNAP_OFFSET: first,
            "h1": orjson.dumps({"id": "h1", "last": change("h1", 100)})})
        snaps = lambda: [f for f in client.frames if f["op"] == "snapshot"]  # noqa: E731
        await wait_for(lambda: len(snaps()) == 2, timeout=15, what="a resync snapshot")
        assert snaps()[-1]["offset"] == first and snaps()[-1]["events"][0]["last"]["price"] == 100
        nxt = await publish(r, SPORT, [change("h1", 120)], epoch="life-1")
        await wait_for(lambda: client.offsets(TOPIC)[-1:] == [nxt], what="live again after the resync")
    finally:
        await r.aclose()
