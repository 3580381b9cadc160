"""Broadcast events: a ``notify`` entry for user 0 reaches every socket of every node (kill switches)."""

from __future__ import annotations

import redis.asyncio as aioredis

from shared import streams
from tests.pushd.conftest import Connect, StartNode


async def test_user_zero_notify_entry_reaches_every_socket_on_every_node(
        start_node: StartNode, connect: Connect, rds: aioredis.Redis) -> None:
    node_a, node_b = await start_node(), await start_node()
    phones = [await connect(node_a, user=7), await connect(node_b, user=8), await connect(node_b, user=9)]
    data = {"version": 3, "scope": "league", "target": "basketball_nba", "suspended": True, "reason": "feed"}
    offset = (await rds.xadd(streams.NOTIFY, streams.encode_notify(0, "switches.changed", data))).decode()
    for phone in phones:
        frame = await phone.wait("broadcast", kind="switches.changed")
        assert frame == {"op": "broadcast", "offset": offset, "kind": "switches.changed", "data": data}
        assert not phone.ops("user")  # not a private event of anyone
    await rds.xadd(streams.NOTIFY, streams.encode_notify(7, "balance.changed", {"n": 1}))
    await phones[0].wait("user", kind="balance.changed")
    assert not phones[1].ops("user") and len(phones[1].ops("broadcast")) == 1
