"""Fan-out across nodes: same sequence everywhere, private events to the right user on any node."""

from __future__ import annotations

import aiohttp
import orjson
import redis.asyncio as aioredis

from shared import streams
from tests.helpers import wait_for
from tests.pushd.conftest import Connect, StartNode, change, publish

TOPIC = "sport:soccer_epl"
SPORT = "soccer_epl"


async def test_two_nodes_deliver_the_same_sequence(start_node: StartNode, connect: Connect,
                                                   rds: aioredis.Redis) -> None:
    await publish(rds, SPORT, [change("m1", 100)])
    a, b = await connect(await start_node()), await connect(await start_node())
    await a.sub([TOPIC])
    await b.sub([TOPIC])
    ids = [await publish(rds, SPORT, [change("m1", 100 + i), change("m2", -i)]) for i in range(50)]
    await wait_for(lambda: a.offsets(TOPIC) == ids and b.offsets(TOPIC) == ids, what="50 frames on both nodes")
    assert [f["changes"] for f in a.ops("odds")] == [f["changes"] for f in b.ops("odds")]


async def test_private_event_reaches_its_user_on_the_other_node_only(
        start_node: StartNode, connect: Connect, rds: aioredis.Redis) -> None:
    node_a, node_b = await start_node(), await start_node()
    other = await connect(node_a, user=8)
    mine = await connect(node_b, user=7)
    offset = (await rds.xadd(streams.NOTIFY, streams.encode_notify(7, "bet.graded", {"bet": 55, "won": True})))
    frame = await mine.wait("user", kind="bet.graded")
    assert frame["data"] == {"bet": 55, "won": True} and frame["offset"] == offset.decode()
    assert frame["topic"] == "user:7"
    await rds.xadd(streams.NOTIFY, streams.encode_notify(8, "balance.changed", {"balance": 10}))
    await other.wait("user", kind="balance.changed")
    assert [f["kind"] for f in mine.ops("user")] == ["bet.graded"]


async def test_account_inactive_sends_the_event_then_closes_that_users_sockets(
        start_node: StartNode, connect: Connect, rds: aioredis.Redis) -> None:
    node_a, node_b = await start_node(), await start_node()
    phone, laptop, bystander = await connect(node_a, user=9), await connect(node_b, user=9), await connect(node_a)
    await rds.xadd(streams.NOTIFY, streams.encode_notify(9, "account.status", {"status": "inactive"}))
    assert await phone.closed() == 4003 and await laptop.closed() == 4003
    assert phone.ops("user")[0]["data"] == {"status": "inactive"} and laptop.has("user", kind="account.status")
    await rds.xadd(streams.NOTIFY, streams.encode_notify(1, "account.status", {"status": "active"}))
    await bystander.wait("user", kind="account.status")
    assert not bystander.task.done()


async def test_node_registers_in_pushd_nodes_and_leaves_on_shutdown(
        start_node: StartNode, connect: Connect, rds: aioredis.Redis) -> None:
    node = await start_node(node_id="edge-1")
    await connect(node)
    await connect(node, user=2)

    async def registered() -> bool:
        raw = await rds.hget(streams.PUSHD_NODES, "edge-1")
        return raw is not None and orjson.loads(raw)["connections"] == 2

    await wait_for(registered, what="heartbeat with 2 connections")
    doc = orjson.loads(await rds.hget(streams.PUSHD_NODES, "edge-1"))
    assert doc["users"] == 2 and doc["version"] and doc["expires"] > doc["ts"]
    await node.close()
    assert await rds.hget(streams.PUSHD_NODES, "edge-1") is None


async def test_metrics_count_connections_frames_and_resumes(
        start_node: StartNode, connect: Connect, rds: aioredis.Redis) -> None:
    await publish(rds, SPORT, [change("m1", 1)])
    node = await start_node()
    client = await connect(node)
    await client.sub([TOPIC])
    async with aiohttp.ClientSession() as s, s.get(node.make_url("/metrics")) as resp:
        body = await resp.text()
    for name in ("pushd_connections", "pushd_frames_out_total", 'pushd_resume_total{outcome="snapshot"}',
                 'pushd_subscriptions{kind="sport"}', "pushd_reader_lag_seconds_bucket"):
        assert name in body, name


async def test_private_events_missed_while_away_are_replayed_on_another_node(
        start_node: StartNode, connect: Connect, rds: aioredis.Redis) -> None:
    node_a, node_b = await start_node(), await start_node()
    phone = await connect(node_a, user=7)
    seen = (await rds.xadd(streams.NOTIFY, streams.encode_notify(7, "bet.accepted", {"bet": 1}))).decode()
    await phone.wait("user", offset=seen)
    await phone.close()
    missed = [(await rds.xadd(streams.NOTIFY, streams.encode_notify(u, "balance.changed", {"n": i}))).decode()
              for i, u in enumerate((7, 8, 7))]
    back = await connect(node_b, user=7)
    sub = await back.sub(["user:7"], since={"user:7": {"epoch": "", "offset": seen}})
    assert sub["recovered"] == {"user:7": True}
    assert [(f["offset"], f["data"]["n"]) for f in back.ops("user")] == [(missed[0], 0), (missed[2], 2)]
    gone = await connect(node_b, user=7)
    lost = await gone.sub(["user:7"], since={"user:7": {"epoch": "", "offset": "1-0"}})
    assert lost["recovered"] == {"user:7": False} and not gone.ops("user")
