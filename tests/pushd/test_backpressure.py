"""A slow consumer is closed 4008 when its unsent buffer passes the bound; a fast one keeps receiving."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
from prometheus_client import REGISTRY

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


def _closes(code: int) -> float:
    return REGISTRY.get_sample_value("pushd_closes_total", {"code": str(code)}) or 0.0


async def test_a_socket_that_never_reads_is_closed_4008_and_counted(
        start_node: StartNode, rds: aioredis.Redis) -> None:
    """It never answers a ping (it reads nothing): closed as a slow consumer, and closes_total says so."""
    node = await start_node(ping_interval=1)
    hub = node.app[NODE].hub
    before = _closes(4008)
    mute = await RawWS.connect(node.host, node.port)
    mute.send({"op": "hello", "token": await issue_ticket(rds, 5)})
    assert (await mute.json())["op"] == "welcome"
    await wait_for(lambda: len(hub.conns) == 1, what="the socket is up")
    # From here on the client reads nothing, so it never sees a ping and never answers one.
    await wait_for(lambda: not hub.conns, timeout=10, what="the silent socket closed")
    assert _closes(4008) == before + 1
    mute.abort()


async def test_a_repeated_sub_at_the_current_offset_sends_no_second_snapshot(
        start_node: StartNode, connect: Connect, rds: aioredis.Redis) -> None:
    first = await publish(rds, SPORT, [change("t1", 100)])
    client = await connect(await start_node())
    await client.sub([TOPIC])
    again = await client.sub([TOPIC])  # no since: the socket is live, so it is at the current offset
    assert again["recovered"] == {TOPIC: True} and again["epochs"] == {TOPIC: "ep1"}
    third = await client.sub([TOPIC], since={TOPIC: {"epoch": "ep1", "offset": first}})
    assert third["recovered"] == {TOPIC: True}
    nxt = await publish(rds, SPORT, [change("t1", 101)])
    await wait_for(lambda: client.offsets(TOPIC) == [nxt], what="the next frame, once")
    assert len(client.ops("snapshot")) == 1 and client.offsets(TOPIC) == [nxt]


async def test_sub_frames_are_rate_limited_like_other_frames(
        start_node: StartNode, connect: Connect, rds: aioredis.Redis) -> None:
    await publish(rds, SPORT, [change("t1", 100)])
    client = await connect(await start_node(max_client_subs=3))
    for i in range(5):
        await client.send({"op": "sub", "id": i + 1, "topics": [TOPIC]})
    assert await client.closed() == 4029
    assert client.ops("error")[-1]["code"] == "rate_limited" and len(client.ops("subscribed")) == 3
