"""A slow consumer is closed 4008 when its unsent buffer passes the bound; a fast one keeps receiving."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from pushd.keys import NODE
from tests.helpers import scaled, wait_for
from tests.pushd.conftest import Connect, StartNode, change, issue_ticket, publish
from tests.pushd.rawws import RawWS

TOPIC = "sport:tennis_atp"
SPORT = "tennis_atp"


async def test_slow_consumer_closed_4008_while_fast_one_gets_everything(
        start_node: StartNode, connect: Connect, rds: aioredis.Redis) -> None:
    await publish(rds, SPORT, [change("t1", 100)])
    node = await start_node(max_buffer_bytes=65536)
    hub = node.app[NODE].hub
    slow = await RawWS.connect(node.host, node.port)
    slow.send({"op": "hello", "token": await issue_ticket(rds, 5)})
    assert (await slow.json())["op"] == "welcome"
    slow.send({"op": "sub", "id": 1, "topics": [TOPIC]})
    assert [(await slow.json())["op"] for _ in range(2)] == ["snapshot", "subscribed"]
    fast = await connect(node, user=6)
    await fast.sub([TOPIC])
    snap = fast.ops("snapshot")[0]
    big = [change(f"t{i}", i) for i in range(300)]  # ~30 KB per frame
    for _ in range(400):  # bounded: stop as soon as the slow socket is cut off
        await publish(rds, SPORT, big)
        if len(hub.conns) == 1:
            break
        await asyncio.sleep(0.01)  # let the node fan out what is queued so far
    assert len(hub.conns) == 1, "the slow consumer was never closed"
    tail = [await publish(rds, SPORT, [change("t1", p)]) for p in range(3)]
    assert await asyncio.wait_for(slow.close_code(), scaled(10)) == 4008
    stream = [eid.decode() for eid, _ in await rds.xrange("odds:" + SPORT, min="(" + snap["offset"])]
    await wait_for(lambda: fast.offsets(TOPIC)[-3:] == tail, timeout=20, what="fast client gets the tail")
    assert fast.offsets(TOPIC) == stream and not fast.task.done()
