"""Catalog fixtures: a database and Redis filled by the real ingest pipeline running the simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp.test_utils import TestClient

from ingest.config import IngestSettings
from ingest.daemon import OddsPipeline
from ingest.providers.simulator import Simulator
from restapi.app import create_app
from restapi.config import RestSettings
from shared.config import load
from shared.daemon import DaemonContext
from shared.db import create_pool
from shared.redis import create_client


@dataclass
class Filled:
    """The pipeline that filled the servers, and the REST client on them."""

    pipeline: OddsPipeline
    client: TestClient


@pytest.fixture
async def filled(aiohttp_client, base_env: dict[str, str]) -> AsyncIterator[Filled]:  # type: ignore[no-untyped-def]
    pg = await create_pool(base_env["DATABASE_URL"], 1, 4)
    redis = create_client(base_env["REDIS_URL"])
    settings = load(IngestSettings, base_env)
    pipeline = OddsPipeline(DaemonContext(pg, redis, 0), settings, provider=Simulator(seed=7, leagues=12))
    await pipeline.poller.bootstrap()
    await pipeline.poller.tick()  # discovers the games
    await pipeline.poller.tick()  # fetches their odds
    await pipeline.store.refresh_sidebar()
    client = await aiohttp_client(create_app(load(RestSettings, base_env, port=0)))
    try:
        yield Filled(pipeline, client)
    finally:
        await redis.aclose()
        pg.close()
        await pg.wait_closed()
