"""The auth purge job deletes only what can never be used again."""

from __future__ import annotations

import asyncio

import aiopg
from aiohttp.test_utils import TestClient

from restapi.auth.purge import AuthPurge, purge_once
from tests.helpers import scaled, wait_for
from tests.restapi.auth.conftest import bearer, login, sql


async def test_purge_keeps_live_sessions_and_spent_tokens_of_live_sessions(
    client: TestClient, database_url: str
) -> None:
    live = await login(client, device="live")
    await client.post("/api/v1/auth/refresh", json={"refresh_token": live["refresh_token"]})  # a spent token
    old = await login(client, device="old")
    await client.post("/api/v1/auth/logout", headers=bearer(old))
    await sql(database_url, "UPDATE refresh_tokens SET expires_at = now() - interval '1 minute' "
                            "WHERE session_id = %(id)s", {"id": old["session_id"]})
    await sql(database_url, "UPDATE auth_sessions SET revoked_at = now() - interval '31 days' WHERE id = %(id)s",
              {"id": old["session_id"]})
    await sql(database_url, "INSERT INTO password_resets (token_hash, user_id, expires_at) SELECT 'x'::bytea, id, "
                            "now() - interval '2 days' FROM users WHERE login = 'player01'")

    async with aiopg.create_pool(database_url, minsize=1, maxsize=1) as pool:
        counts = await purge_once(pool)
    assert counts == {"refresh_tokens": 1, "auth_sessions": 1, "password_resets": 1, "session_access_tokens": 0,
                      "revoked_access_tokens": 0, "login_throttle": 0, "login_failures": 0}
    sessions = await sql(database_url, "SELECT id::text FROM auth_sessions")
    assert sessions == [(live["session_id"],)]
    assert len(await sql(database_url, "SELECT 1 FROM refresh_tokens")) == 2  # the spent one stays for reuse checks


async def test_purge_job_runs_until_stopped(database_url: str, users: dict[str, int]) -> None:
    await sql(database_url, "INSERT INTO password_resets (token_hash, user_id, expires_at) "
                            "VALUES ('y'::bytea, %(id)s, now() - interval '2 days')", {"id": users["player01"]})
    stop = asyncio.Event()
    async with aiopg.create_pool(database_url, minsize=1, maxsize=2) as pool:
        task = asyncio.create_task(AuthPurge(pool, interval=3600).run(stop))

        async def purged() -> bool:
            return not await sql(database_url, "SELECT 1 FROM password_resets")

        await wait_for(purged, what="the first purge pass")
        stop.set()
        await asyncio.wait_for(task, scaled(5))
