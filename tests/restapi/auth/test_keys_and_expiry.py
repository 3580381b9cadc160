"""Key rotation without logging anyone out, expired refresh tokens, roles in tokens, CORS header checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jwt
from aiohttp.test_utils import TestClient

from shared.tokens import generate_key_file
from tests.restapi.auth.conftest import AGENT_PASSWORD, bearer, login, make_client, sql

API = "/api/v1/auth"


async def test_a_new_key_signs_while_tokens_of_the_old_one_stay_valid(
    aiohttp_client: Any, auth_env: dict[str, str], users: dict[str, int], tmp_path: Path
) -> None:
    keys = tmp_path / "keys"
    generate_key_file(keys, "20260101000000")
    env = {**auth_env, "AUTH_KEYS_DIR": str(keys)}
    before = await make_client(aiohttp_client, env)
    old = await login(before)
    assert jwt.get_unverified_header(old["access_token"])["kid"] == "20260101000000"

    generate_key_file(keys, "20260201000000")  # rotation: a newer key, the old one still present
    after = await make_client(aiohttp_client, env)
    new = await login(after)
    assert jwt.get_unverified_header(new["access_token"])["kid"] == "20260201000000"
    assert (await after.get(f"{API}/me", headers=bearer(old))).status == 200
    kids = {k["kid"] for k in (await (await after.get("/.well-known/jwks.json")).json())["keys"]}
    assert kids == {"20260101000000", "20260201000000"}
    resp = await after.post(f"{API}/refresh", json={"refresh_token": old["refresh_token"]})
    assert jwt.get_unverified_header((await resp.json())["access_token"])["kid"] == "20260201000000"


async def test_expired_refresh_token_is_refused(client: TestClient, database_url: str) -> None:
    tokens = await login(client)
    await sql(database_url, "UPDATE refresh_tokens SET expires_at = now() - interval '1 second'")
    resp = await client.post(f"{API}/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert resp.status == 401 and (await resp.json())["error"] == "refresh_token_expired"


async def test_agent_tokens_carry_the_agent_role(client: TestClient, users: dict[str, int]) -> None:
    tokens = await login(client, "agent1", AGENT_PASSWORD)
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["role"] == "agent" and claims["agent_id"] is None and claims["sub"] == str(users["agent1"])


async def test_preflight_with_a_header_outside_the_allowlist_is_refused(client: TestClient) -> None:
    headers = {"Origin": "https://app.wagerbabe.test", "Access-Control-Request-Method": "GET",
               "Access-Control-Request-Headers": "X-Secret-Thing"}
    resp = await client.options(f"{API}/me", headers=headers)
    assert resp.status == 403 and (await resp.json())["error"] == "cors_header_denied"
