"""The request principal: bearer tokens verified per request, roles enforced."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from restapi.app import create_app
from restapi.auth.principal import principal, require_role
from restapi.config import RestSettings
from shared.config import load
from shared.tokens import KeyRing, access_claims
from shared.web import json_response


async def test_bearer_token_and_roles(aiohttp_client, base_env: dict[str, str], keys_dir: Path) -> None:  # type: ignore[no-untyped-def]
    app = create_app(load(RestSettings, base_env, port=0))

    async def me(request: web.Request) -> web.Response:
        who = await principal(request)
        return json_response({"id": who.user_id, "role": who.role})

    async def agents_only(request: web.Request) -> web.Response:
        who = await require_role(request, "agent", "admin")
        return json_response({"id": who.user_id})

    app.router.add_get("/t/me", me)
    app.router.add_get("/t/agent", agents_only)
    client = await aiohttp_client(app)
    ring = KeyRing.load(keys_dir)
    player = ring.sign(access_claims(5, "player", 2, ttl=60))
    agent = ring.sign(access_claims(2, "agent", None, ttl=60))

    resp = await client.get("/t/me", headers={"Authorization": f"Bearer {player}"})
    assert await resp.json() == {"id": 5, "role": "player"}
    resp = await client.get("/t/me")
    assert resp.status == 401 and (await resp.json())["error"] == "missing_token"
    resp = await client.get("/t/me", headers={"Authorization": "Bearer nonsense"})
    assert resp.status == 401 and (await resp.json())["error"] == "invalid_token"
    resp = await client.get("/t/agent", headers={"Authorization": f"Bearer {player}"})
    assert resp.status == 403 and (await resp.json())["error"] == "wrong_role"
    resp = await client.get("/t/agent", headers={"Authorization": f"Bearer {agent}"})
    assert resp.status == 200
