"""Fixtures of the ingest tests: pools and clients on the test's own servers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiopg
import pytest

from shared.db import create_pool
from shared.redis import Redis, create_client


@pytest.fixture
async def pg(database_url: str) -> AsyncIterator[aiopg.Pool]:
    pool = await create_pool(database_url, 1, 4)
    yield pool
    pool.close()
    await pool.wait_closed()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = create_client(redis_url)
    yield client
    await client.aclose()
