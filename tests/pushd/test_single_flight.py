"""A reconnect storm: identical concurrent replay reads of one topic become one Redis call."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from pushd import protocol as p
from pushd.keys import NODE
from tests.helpers import wait_for
from tests.pushd.conftest import Connect, StartNode, change, publish

TOPIC = "sport:mma"


async def _calls(r: aioredis.Redis, command: str) -> int:
    stats = await r.info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


async def test_identical_concurrent_replays_share_one_xrange(start_node: StartNode, connect: Connect,
                                                             rds: aioredis.Redis) -> None:
    since = await publish(rds, "mma", [change("f1", 100)])
    missed = [await publish(rds, "mma", [change("f1", 100 + i)]) for i in range(1, 4)]
    node = await start_node()
    clients = [await connect(node, user=u) for u in range(1, 21)]
    recovery, hub = node.app[NODE].recovery, node.app[NODE].hub
    await recovery.sport_for(TOPIC)
    before = await _calls(rds, "xrange")
    results = await asyncio.gather(*(recovery.subscribe(conn, TOPIC, "mma", p.Since("ep1", since))
                                     for conn in list(hub.conns)))
    assert await _calls(rds, "xrange") - before == 1
    assert all(r is not None and r.recovered for r in results)
    for c in clients:
        await wait_for(lambda c=c: c.offsets(TOPIC) == missed, what="every client got the replay")
    live = await publish(rds, "mma", [change("f1", 200)])
    for c in clients:
        await wait_for(lambda c=c: c.offsets(TOPIC) == [*missed, live], what="and then live")
