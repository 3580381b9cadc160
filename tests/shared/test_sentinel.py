"""Redis behind three Sentinels: the primary is killed under load, the replica is promoted, services follow."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.redisha import RedisHA
from restapi.app import create_app
from restapi.config import RestSettings
from shared.config import load
from shared.redis import create_client, parse_sentinel_url
from shared.tokens import KeyRing, access_claims
from tests.helpers import wait_for


@pytest.fixture
def redis_ha(data_root: Path) -> Iterator[RedisHA]:
    """A primary, a replica and three Sentinels of the test's own."""
    ha = RedisHA(data_root / f"redis-ha-{uuid.uuid4().hex[:8]}")
    try:
        ha.start()
        yield ha
    finally:
        ha.stop()


def test_sentinel_urls_name_the_sentinels_the_master_and_the_db() -> None:
    assert parse_sentinel_url("redis+sentinel://:pw@h1:1,h2:2,h3/mymaster/3") == (
        [("h1", 1), ("h2", 2), ("h3", 26379)], "mymaster", 3, "pw")
    with pytest.raises(ValueError, match="names the master"):
        parse_sentinel_url("redis+sentinel://h1:1")


async def test_api_and_daemon_clients_follow_a_failover_of_a_killed_primary(
        redis_ha: RedisHA, database_url: str, keys_dir: Path, aiohttp_client: Any) -> None:
    settings = load(RestSettings, {"DATABASE_URL": database_url, "REDIS_URL": redis_ha.url,
                                   "AUTH_KEYS_DIR": str(keys_dir)}, port=0, api_limit=1_000_000)
    client = await aiohttp_client(create_app(settings))
    daemon = create_client(redis_ha.url)  # what ingest, jobs and pushd's reader build from REDIS_URL
    token = KeyRing.load(keys_dir).sign(access_claims(10, "player", 2, ttl=600))
    auth = {"Authorization": f"Bearer {token}"}
    statuses: list[tuple[float, int]] = []
    stop = asyncio.Event()

    async def load_loop() -> None:
        # Each authenticated request checks the denylist and rate limit in Redis (fails closed: 503).
        while not stop.is_set():
            resp = await client.get("/api/v1/auth/me", headers=auth)
            statuses.append((time.monotonic(), resp.status))
            await asyncio.sleep(0.01)

    try:
        await daemon.set("before", "1")
        loader = asyncio.create_task(load_loop())
        await wait_for(lambda: len(statuses) > 10, 10, "some load before the kill")
        assert {s for _, s in statuses} <= {200, 404}  # the caller exists only in the token
        old = redis_ha.kill_primary()
        killed_at = time.monotonic()
        await wait_for(lambda: redis_ha.primary_port() not in (None, old), 30, "the Sentinels to promote the replica")
        assert redis_ha.primary_port() == redis_ha.ports["b"]

        async def serving() -> bool:
            recent = [s for t, s in statuses if t > killed_at]
            return len(recent) > 5 and all(s in (200, 404) for s in recent[-5:])

        await wait_for(serving, 30, "the API to serve again after the failover")
        stop.set()
        await loader
        # The daemons' client finds the new primary too, and the replicated key survived.
        await wait_for(lambda: _works(daemon), 30, "the daemon client to reach the new primary")
        assert await daemon.get("before") == b"1"
        during = {s for t, s in statuses if t > killed_at}
        assert during <= {200, 404, 503}  # refused while Redis was away, never a 500
    finally:
        stop.set()
        await daemon.aclose()
        await daemon.connection_pool.disconnect()


async def _works(client: Any) -> bool:
    try:
        await client.set("after", "1")
        return bool(await client.get("after") == b"1")
    except Exception:
        return False

