"""A real pushd node through a Sentinel failover that lost the primary's last entries: no gap, no repeat."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from devtools.redisha import RedisHA
from shared.redis import create_client
from shared.tokens import KeyRing, access_claims
from tests.helpers import wait_for
from tests.pushd.conftest import Connect, StartNode, change, publish

SPORT = "icehockey_nhl"
TOPIC = f"sport:{SPORT}"
EPOCH = "life-1"


async def test_a_node_follows_a_failover_that_lost_entries_and_clients_resume_without_gap_or_repeat(
        redis_ha: RedisHA, start_node: StartNode, connect: Connect, keys_dir: Path) -> None:
    feed = create_client(redis_ha.url)  # the publisher reaches the primary through Sentinel, as ingest does
    token = KeyRing.load(keys_dir).sign(access_claims(1, "player", 2, ttl=600))

    async def put(price: int) -> str:
        return await publish(feed, SPORT, [change("h1", price)], epoch=EPOCH)

    try:
        first = await put(100)
        node = await start_node(env={"REDIS_URL": redis_ha.url})
        since = {TOPIC: {"epoch": EPOCH, "offset": first}}
        live = await connect(node, token=token)
        await live.sub([TOPIC], since=since)
        away = await connect(node, token=token)  # leaves before the failover, resumes after it
        await away.sub([TOPIC], since=since)
        before = [await put(price) for price in range(101, 106)]
        await wait_for(lambda: live.offsets(TOPIC) == before and away.offsets(TOPIC) == before, 10,
                       what="the entries the replica will have")
        await away.close()
        assert await feed.wait(1, 10_000) == 1  # every entry so far is on the replica

        # The replica stops hearing the primary, which takes two more entries and then dies: the
        # Sentinels promote a replica that never had them (asynchronous replication's loss).
        replica = redis_ha.procs["b"].pid
        os.kill(replica, signal.SIGSTOP)
        try:
            primary = aioredis.Redis(port=redis_ha.ports["a"])
            await primary.client_kill_filter(_type="replica")
            await primary.aclose()
            lost = [await put(price) for price in (106, 107)]
            await wait_for(lambda: live.offsets(TOPIC) == before + lost, 10, what="the entries the failover loses")
            redis_ha.kill_primary()
        finally:
            os.kill(replica, signal.SIGCONT)
        await wait_for(lambda: redis_ha.primary_port() == redis_ha.ports["b"], 30, "the replica promoted")

        # The node finds the stream ending before what it sent: the socket gets a snapshot of what the
        # new primary holds, then live entries, each once.
        snap = await live.wait("snapshot", offset=before[-1], timeout=30, what="a resync snapshot")
        assert snap["epoch"] == EPOCH and snap["events"][0]["last"]["price"] == 105
        after: list[str] = []

        async def published() -> bool:
            try:
                after.append(await put(108 + len(after)))
            except Exception:  # noqa: BLE001 - the client is still finding the new primary
                return False
            return len(after) == 3

        await wait_for(published, 30, "publishing through Sentinel to the new primary")
        await wait_for(lambda: live.offsets(TOPIC) == before + lost + after, 15, what="live again, nothing twice")
        assert not live.task.done()

        # A client that left before the failover resumes from its offset: exactly what came since.
        back = await connect(node, token=token)
        answer = await back.sub([TOPIC], since={TOPIC: {"epoch": EPOCH, "offset": before[-1]}})
        assert answer["recovered"] == {TOPIC: True}
        await wait_for(lambda: back.offsets(TOPIC) == after, 10, what="the replay after the failover")
        assert not back.ops("snapshot")

        # A client whose offset is ahead of the new primary's stream (it saw a lost entry) gets a snapshot.
        ahead = await connect(node, token=token)
        answer = await ahead.sub([TOPIC], since={TOPIC: {"epoch": EPOCH, "offset": lost[-1]}})
        assert answer["recovered"] == {TOPIC: False}
        fresh: dict[str, Any] = await ahead.wait("snapshot", topic=TOPIC)
        assert fresh["offset"] == after[-1] and fresh["events"][0]["last"]["price"] == 110
        assert ahead.offsets(TOPIC) == []
    finally:
        await feed.aclose()
        await feed.connection_pool.disconnect()
