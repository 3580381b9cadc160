"""Account-takeover paths closed (issue 13): reset-link poisoning, revocation that survives Redis
losing its data (restapi and pushd), per-account login throttling, and the web app's cookie session.

Each test attacks the way the outside probe did and fails on the code before the fix.
"""

from __future__ import annotations

import re
from email.message import Message
from typing import Any

import aiohttp
import orjson
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from pushd import protocol as p
from pushd.app import create_app as create_push_app
from pushd.config import PushSettings
from restapi.keys import TASKS
from shared.config import load
from tests.conftest import TIMEOUT_FACTOR
from tests.helpers import Inbox, wait_for
from tests.restapi.auth.conftest import PUBLIC_URL, bearer, login, make_client

API = "/api/v1/auth"
EVIL = "evil.example"


def _link(message: Message) -> str:
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    match = re.search(r"(\S+/reset-password\?token=[A-Za-z0-9_%-]+)", body.decode())
    assert match, body
    return match.group(1)


async def _reset_mail(client: TestClient, inbox: Inbox, email: str, **headers: str) -> list[Message]:
    """Ask for a reset link with ``headers``; the mails sent to ``email`` once the background work ends."""
    resp = await client.post(f"{API}/password-reset/request", json={"email": email}, headers=headers)
    assert resp.status == 202, await resp.text()
    await wait_for(lambda: not client.app[TASKS], what="background reset work to finish")
    return [m for m in inbox.messages if m["To"] == email]


# -- 1. password-reset link poisoning ---------------------------------------------------------------

async def test_reset_link_never_points_at_the_host_the_request_named(
    client: TestClient, smtp: tuple[Inbox, int]
) -> None:
    """Host, X-Forwarded-Host and Forwarded naming the attacker still mail the configured origin."""
    inbox = smtp[0]
    poisoned = {"Host": EVIL, "X-Forwarded-Host": EVIL, "Forwarded": f"host={EVIL};proto=https",
                "X-Forwarded-Proto": "https", "Origin": f"https://{EVIL}"}
    for header, value in poisoned.items():
        inbox.messages.clear()
        mails = await _reset_mail(client, inbox, "player01@wagerbabe.test", **{header: value})
        assert len(mails) == 1, header
        link = _link(mails[0])
        assert link.startswith(f"{PUBLIC_URL}/reset-password?token="), (header, link)
        assert EVIL not in mails[0].as_string()


async def test_reset_link_uses_the_listed_origin_the_request_came_to(
    aiohttp_client: Any, auth_env: dict[str, str], users: dict[str, int], smtp: tuple[Inbox, int]
) -> None:
    client = await make_client(aiohttp_client, {**auth_env, "RESTAPI_PUBLIC_ORIGINS": "https://Other.Wagerbabe.test"})
    mails = await _reset_mail(client, smtp[0], "player02@wagerbabe.test", Host="other.wagerbabe.test")
    assert _link(mails[0]).startswith("https://other.wagerbabe.test/reset-password?token=")


async def test_without_a_public_origin_no_link_is_mailed_at_all(
    aiohttp_client: Any, auth_env: dict[str, str], users: dict[str, int], smtp: tuple[Inbox, int]
) -> None:
    """Before the fix the link fell back to the request's Host; now nothing is sent, and the answer is
    the same 202."""
    client = await make_client(aiohttp_client, {**auth_env, "RESTAPI_PUBLIC_URL": ""})
    assert await _reset_mail(client, smtp[0], "player01@wagerbabe.test", Host=EVIL) == []


# -- 3. revocation survives Redis losing its data --------------------------------------------------

async def _flush(redis_url: str) -> None:
    """What a Redis restart without persistence does to the app's data (the test's own database)."""
    r = aioredis.Redis.from_url(redis_url)
    try:
        await r.flushdb()
        assert await r.dbsize() == 0
    finally:
        await r.aclose()


async def _hello_close(push_url: str, token: str) -> tuple[list[dict[str, Any]], int | None]:
    """Say hello to pushd with ``token``; the frames until the socket closes and the close code."""
    frames: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as session, session.ws_connect(push_url) as ws:
        await ws.send_str(orjson.dumps({"op": "hello", "token": token}).decode())
        while True:
            msg = await ws.receive(timeout=10 * TIMEOUT_FACTOR)
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            frames.append(orjson.loads(msg.data))
            if frames[-1]["op"] == "welcome":
                await ws.close()
                break
        return frames, ws.close_code


async def test_logged_out_and_revoked_tokens_stay_dead_after_redis_loses_its_data(
    client: TestClient, aiohttp_server: Any, base_env: dict[str, str], redis_url: str
) -> None:
    push = await aiohttp_server(create_push_app(load(PushSettings, base_env, port=0)))
    push_url = str(push.make_url("/ws"))
    logged_out, revoked, kept = await login(client), await login(client), await login(client)
    assert (await client.post(f"{API}/logout", headers=bearer(logged_out))).status == 204
    resp = await client.delete(f"{API}/sessions/{revoked['session_id']}", headers=bearer(kept))
    assert resp.status == 204

    await _flush(redis_url)

    for tokens in (logged_out, revoked):
        for path in (f"{API}/me", "/api/v1/betting/bets"):
            resp = await client.get(path, headers=bearer(tokens))
            assert resp.status == 401 and (await resp.json())["error"] == "token_revoked", path
        frames, code = await _hello_close(push_url, tokens["access_token"])
        assert code == p.CLOSE_UNAUTHORIZED and frames[-1]["code"] == "token_revoked"
    # A live session is not caught by the lookup: the same requests still work.
    assert (await client.get("/api/v1/betting/bets", headers=bearer(kept))).status == 200
    frames, _ = await _hello_close(push_url, kept["access_token"])
    assert frames[-1]["op"] == "welcome"

    # Again once the answers are cached, and after a second loss.
    await _flush(redis_url)
    assert (await client.get(f"{API}/me", headers=bearer(logged_out))).status == 401
    assert (await client.get(f"{API}/me", headers=bearer(logged_out))).status == 401
    assert (await client.get(f"{API}/me", headers=bearer(kept))).status == 200
    assert (await client.get(f"{API}/me", headers=bearer(kept))).status == 200


async def test_a_token_revoked_while_cached_as_live_is_refused_at_once(client: TestClient) -> None:
    """The live-cache entry never outlives a revocation: the deny entry wins and replaces it."""
    tokens = await login(client)
    assert (await client.get(f"{API}/me", headers=bearer(tokens))).status == 200  # now cached as live
    assert (await client.post(f"{API}/logout", headers=bearer(tokens))).status == 204
    assert (await client.get(f"{API}/me", headers=bearer(tokens))).status == 401


async def test_deactivation_survives_redis_losing_its_data(
    client: TestClient, users: dict[str, int], redis_url: str
) -> None:
    player, agent = await login(client, "player02"), await login(client, "agent1", "agent-pass-123")
    resp = await client.post(f"/api/v1/agent/clients/{users['player02']}/deactivate", headers=bearer(agent))
    assert resp.status in (200, 204), await resp.text()
    await _flush(redis_url)
    assert (await client.get(f"{API}/me", headers=bearer(player))).status == 401
