"""Resume: replay from the client's offset with no gap while updates flow, else a snapshot."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from tests.helpers import wait_for
from tests.pushd.conftest import Connect, StartNode, change, publish

TOPIC = "sport:basketball_nba"
SPORT = "basketball_nba"


async def test_resume_across_disconnect_while_updates_flow_has_no_gap_and_no_duplicate(
        start_node: StartNode, connect: Connect, rds: aioredis.Redis) -> None:
    """A client leaves node A mid-stream and resumes on node B; its offsets equal the stream's."""
    await publish(rds, SPORT, [change("e1", 100)])
    node_a, node_b = await start_node(), await start_node()
    first = await connect(node_a)
    sub = await first.sub([TOPIC])
    assert sub["recovered"] == {TOPIC: False} and first.ops("snapshot")[0]["topic"] == TOPIC
    snap = first.ops("snapshot")[0]
    stop = asyncio.Event()

    async def writer() -> None:
        price = 101
        while not stop.is_set() and price < 400:
            await publish(rds, SPORT, [change("e1", price)])
            price += 1
            await asyncio.sleep(0.005)  # a steady flow of updates, not synchronisation

    task = asyncio.create_task(writer())
    await wait_for(lambda: len(first.offsets(TOPIC)) >= 20, what="20 live frames on node A")
    await first.close()
    got_before = first.offsets(TOPIC)
    second = await connect(node_b)
    resumed = await second.sub([TOPIC], since={TOPIC: {"epoch": snap["epoch"], "offset": got_before[-1]}})
    assert resumed["recovered"] == {TOPIC: True} and not second.ops("snapshot")
    await wait_for(lambda: len(second.offsets(TOPIC)) >= 30, what="replay then live frames on node B")
    stop.set()
    await task
    last = (await rds.xrevrange("odds:" + SPORT, count=1))[0][0].decode()
    await wait_for(lambda: second.offsets(TOPIC)[-1:] == [last], what="the last entry on node B")
    stream = [eid.decode() for eid, _ in await rds.xrange("odds:" + SPORT, min="(" + snap["offset"])]
    assert got_before + second.offsets(TOPIC) == stream


async def test_too_old_offset_gets_a_snapshot_consistent_with_its_offset(
        start_node: StartNode, connect: Connect, rds: aioredis.Redis) -> None:
    old = await publish(rds, SPORT, [change("e1", 100)], maxlen=5)
    for price in range(101, 120):
        await publish(rds, SPORT, [change("e2", price)], maxlen=5)
    node = await start_node()
    client = await connect(node)
    sub = await client.sub([TOPIC], since={TOPIC: {"epoch": "ep1", "offset": old}})
    assert sub["recovered"] == {TOPIC: False}
    snap = client.ops("snapshot")[0]
    assert snap["offset"] == (await rds.hget("snap:" + SPORT, "_offset")).decode()
    assert {e["id"]: e["last"]["price"] for e in snap["events"]} == {"e1": 100, "e2": 119}
    nxt = await publish(rds, SPORT, [change("e2", 120)], maxlen=5)
    await wait_for(lambda: client.offsets(TOPIC) == [nxt], what="live after the snapshot")


async def test_other_epoch_gets_a_snapshot_never_a_replay(
        start_node: StartNode, connect: Connect, rds: aioredis.Redis) -> None:
    first = await publish(rds, SPORT, [change("e1", 100)])
    await publish(rds, SPORT, [change("e1", 101)])
    client = await connect(await start_node())
    sub = await client.sub([TOPIC], since={TOPIC: {"epoch": "an-older-life", "offset": first}})
    assert sub["recovered"] == {TOPIC: False} and sub["epochs"] == {TOPIC: "ep1"}
    assert not client.offsets(TOPIC) and client.ops("snapshot")[0]["epoch"] == "ep1"


async def test_replay_past_the_bound_becomes_a_snapshot(
        start_node: StartNode, connect: Connect, rds: aioredis.Redis) -> None:
    first = await publish(rds, SPORT, [change("e1", 100)])
    for price in range(101, 111):
        await publish(rds, SPORT, [change("e1", price)])
    node = await start_node(replay_limit=5)
    client = await connect(node)
    sub = await client.sub([TOPIC], since={TOPIC: {"epoch": "ep1", "offset": first}})
    assert sub["recovered"] == {TOPIC: False} and len(client.ops("snapshot")) == 1


async def test_offset_at_the_head_recovers_with_nothing_to_replay(
        start_node: StartNode, connect: Connect, rds: aioredis.Redis) -> None:
    head = await publish(rds, SPORT, [change("e1", 100)])
    client = await connect(await start_node())
    sub = await client.sub([TOPIC], since={TOPIC: {"epoch": "ep1", "offset": head}})
    assert sub["recovered"] == {TOPIC: True} and not client.ops("snapshot") and not client.offsets(TOPIC)


async def test_event_topic_replays_only_its_event(
        start_node: StartNode, connect: Connect, rds: aioredis.Redis) -> None:
    start = await publish(rds, SPORT, [change("e1", 100), change("e2", 200)])
    mine = await publish(rds, SPORT, [change("e1", 101), change("e2", 201)])
    await publish(rds, SPORT, [change("e2", 202)])
    client = await connect(await start_node())
    sub = await client.sub(["event:e1"], since={"event:e1": {"epoch": "ep1", "offset": start}})
    assert sub["recovered"] == {"event:e1": True}
    frames = [f for f in client.ops("odds") if f["topic"] == "event:e1"]
    assert [(f["offset"], [c["price"] for c in f["changes"]]) for f in frames] == [(mine, [101])]
    live = await publish(rds, SPORT, [change("e1", 102), change("e3", 5)])
    await wait_for(lambda: client.offsets("event:e1")[-1:] == [live], what="live event frame")
    assert [c["event"] for c in client.ops("odds")[-1]["changes"]] == ["e1"]
    fresh = await connect(await start_node())
    await fresh.sub(["event:e2"])
    assert [e["id"] for e in fresh.ops("snapshot")[0]["events"]] == ["e2"]
