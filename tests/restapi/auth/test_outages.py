"""PostgreSQL or Redis unreachable: a retryable 503 with Retry-After (never a 500), /readyz 503, and
full service again as soon as the server is back (stale pooled connections do not fail requests)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from devtools.devservers import EmbeddedRedis
from tests.helpers import wait_for
from tests.proxy import CutProxy
from tests.restapi.auth.conftest import PLAYER_PASSWORD, bearer, login, make_client

API = "/api/v1"


@pytest.fixture
async def pg_proxy(database_url: str) -> AsyncIterator[CutProxy]:
    proxy = CutProxy.for_url(database_url)
    await proxy.start()
    yield proxy
    await proxy.close()


async def _login(client: TestClient) -> Any:
    return await client.post(f"{API}/auth/login", json={"login": "player01", "password": PLAYER_PASSWORD,
                                                         "device": "outage"})


POOLED = 8


async def _fill_pool(client: TestClient, path: str, headers: dict[str, str]) -> None:
    """Concurrent requests, so the pools hold several connections at once."""
    statuses = await asyncio.gather(*(_status(client, path, headers=headers) for _ in range(POOLED)))
    assert statuses == [200] * POOLED


async def _status(client: TestClient, path: str, **kw: Any) -> int:
    async with client.get(path, **kw) as resp:
        return resp.status


async def test_database_outage_answers_503_database_unavailable_then_serves_at_once_when_back(
        aiohttp_client: Any, auth_env: dict[str, str], users: dict[str, int], database_url: str,
        pg_proxy: CutProxy) -> None:
    client = await make_client(aiohttp_client, {**auth_env, "DATABASE_URL": pg_proxy.url(database_url)},
                               pg_pool_min=3)
    tokens = await login(client)
    await _fill_pool(client, f"{API}/user/profile", bearer(tokens))  # connections the outage makes stale
    await pg_proxy.cut()
    for attempt in (_login(client), client.get(f"{API}/user/profile", headers=bearer(tokens))):
        resp = await attempt
        body = await resp.json()
        assert resp.status == 503, body
        assert body["error"] == "database_unavailable" and body["message"] and "retry_after" in body["details"]
        assert int(resp.headers["Retry-After"]) >= 1
    ready = await client.get("/readyz")
    assert ready.status == 503 and "postgres" in (await ready.json())["message"]
    await pg_proxy.start()
    # Back: the very first requests succeed, though every pooled connection died in the outage.
    resp = await _login(client)
    assert resp.status == 200, await resp.json()
    for _ in range(POOLED):
        assert await _status(client, f"{API}/user/profile", headers=bearer(tokens)) == 200
    await wait_for(lambda: _ready(client), what="readyz 200 again")


async def _ready(client: TestClient) -> bool:
    return await _status(client, "/readyz") == 200


async def test_first_request_after_redis_returns_succeeds_on_a_fresh_connection(
        aiohttp_client: Any, auth_env: dict[str, str], users: dict[str, int], own_redis: EmbeddedRedis) -> None:
    """Redis killed (-9) and restarted: every pooled connection died with it, yet no request fails."""
    client = await make_client(aiohttp_client, {**auth_env, "REDIS_URL": own_redis.url})
    tokens = await login(client)
    await _fill_pool(client, f"{API}/auth/me", bearer(tokens))
    assert own_redis.proc is not None
    own_redis.proc.kill()
    own_redis.proc.wait()
    await asyncio.to_thread(own_redis.start)  # back before any request noticed it was gone
    for _ in range(POOLED):  # one after another, so each may meet a stale pooled connection
        resp = await client.get(f"{API}/auth/me", headers=bearer(tokens))
        assert resp.status == 200, await resp.json()
    assert (await _login(client)).status == 200
    own_redis.proc.kill()
    own_redis.proc.wait()
    resp = await client.get(f"{API}/auth/me", headers=bearer(tokens))
    body = await resp.json()
    assert resp.status == 503 and body["error"] == "redis_unavailable" and resp.headers["Retry-After"]
    assert await _status(client, "/readyz") == 503
    await asyncio.to_thread(own_redis.start)
    assert (await client.get(f"{API}/auth/me", headers=bearer(tokens))).status == 200
    assert await _status(client, "/readyz") == 200
