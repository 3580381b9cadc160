"""Account-takeover paths closed (issue 13): reset-link poisoning, revocation that survives Redis
losing its data (restapi and pushd), per-account login throttling, and the web app's cookie session.

Each test attacks the way the outside probe did and fails on the code before the fix.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

import aiohttp
import orjson
import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from pushd import protocol as p
from pushd.app import create_app as create_push_app
from pushd.config import PushSettings
from restapi.app import create_app
from restapi.auth import cookies, throttle
from restapi.config import RestSettings
from restapi.keys import TASKS
from shared.config import load
from tests.conftest import TIMEOUT_FACTOR
from tests.helpers import Inbox, wait_for
from tests.pushd.helpers import PushTestServer
from tests.restapi.auth.conftest import PLAYER_PASSWORD, PUBLIC_URL, bearer, login, make_client

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
    client: TestClient, aiohttp_client: Any, base_env: dict[str, str], redis_url: str
) -> None:
    push = (await aiohttp_client(PushTestServer(create_push_app(load(PushSettings, base_env, port=0))))).server
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


# -- 4. per-account login throttling ---------------------------------------------------------------

POLICY = throttle.Policy(slow_after=5, max_delay=60.0, pair_limit=10, window=900.0, known_days=30)
T0 = datetime(2030, 1, 7, 12, 0, tzinfo=UTC)  # the pure policy needs no real date


def test_policy_slows_new_addresses_down_doubling_up_to_the_cap() -> None:
    assert [POLICY.delay(n) for n in range(1, 14)] == [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]
    account, now = None, T0
    allowed = 0
    for _ in range(200):  # an attacker trying every second for 200 s from ever new addresses
        verdict = throttle.decide(now, account, None, False, POLICY)
        if verdict.allowed:
            allowed, account = allowed + 1, verdict.account
        now += timedelta(seconds=1)
    assert allowed == 5 + 6 + 2  # 5 free, then after 1+2+4+8+16+32 s, then one per 60 s
    assert throttle.decide(now, account, None, True, POLICY).allowed  # the owner's own address is exempt
    quiet = now + timedelta(seconds=900)
    assert throttle.decide(quiet, account, None, False, POLICY).allowed  # forgotten after a quiet window


def test_policy_blocks_one_account_address_pair_for_the_window_only() -> None:
    pair = throttle.Pair(10, T0)
    blocked = throttle.decide(T0 + timedelta(seconds=60), None, pair, True, POLICY)
    assert not blocked.allowed and blocked.reason == "blocked" and blocked.retry_after == 840
    assert throttle.decide(T0 + timedelta(seconds=900), None, pair, True, POLICY).allowed


class Clock:
    """A clock the test moves by hand (starts at the real time, so PostgreSQL's session times agree)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def _throttled_app(aiohttp_client: Any, env: dict[str, str]) -> tuple[TestClient, Clock]:
    """The app behind a trusted proxy (X-Forwarded-For names the address) with a hand-moved clock."""
    clock = Clock()
    app = create_app(load(RestSettings, {**env, "TRUSTED_PROXIES": "127.0.0.1"}, port=0), clock)
    return await aiohttp_client(app), clock


@pytest.fixture
async def throttled(aiohttp_client: Any, auth_env: dict[str, str], users: dict[str, int]
                    ) -> tuple[TestClient, Clock]:
    """``_throttled_app`` with the per-IP limit at its default (5 failures a minute)."""
    return await _throttled_app(aiohttp_client, auth_env)


async def _try(client: TestClient, address: str, password: str = "wrong-pass-123", who: str = "player01"
               ) -> tuple[int, dict[str, Any]]:
    resp = await client.post(f"{API}/login", json={"login": who, "password": password},
                             headers={"X-Forwarded-For": address})
    return resp.status, await resp.json()


async def test_thirty_wrong_passwords_from_six_addresses_are_not_all_checked(
    throttled: tuple[TestClient, Clock], redis_url: str
) -> None:
    client, clock = throttled
    assert (await _try(client, "198.51.100.7", PLAYER_PASSWORD))[0] == 200  # the owner's usual address
    answers = [await _try(client, f"203.0.113.{n}") for n in range(6) for _ in range(5)]
    checked = [a for a in answers if a[0] == 401]
    refused = [a for a in answers if a[0] == 429]
    assert len(checked) == 5 and len(refused) == 25  # before the fix: 30 checked
    body = refused[0][1]
    assert body["error"] == "login_throttled" and "wait" in body["message"] and body["details"]["retry_after"] == 1
    # Right password from an attacker's new address: refused unchecked, so guessing it tells nothing.
    assert (await _try(client, "203.0.113.77", PLAYER_PASSWORD))[0] == 429
    # The owner at their usual address is not locked out.
    assert (await _try(client, "198.51.100.7", PLAYER_PASSWORD))[0] == 200

    await _flush(redis_url)  # the throttle lives in PostgreSQL
    assert (await _try(client, "203.0.113.78"))[1]["error"] == "login_throttled"

    # Slowed, never locked: a new address waits at most AUTH_ACCOUNT_MAX_DELAY.
    for n in range(8):
        clock.advance(60)
        assert (await _try(client, f"203.0.113.{100 + n}"))[0] == 401
    assert (await _try(client, "203.0.113.80", PLAYER_PASSWORD))[0] == 429
    clock.advance(60)
    assert (await _try(client, "203.0.113.80", PLAYER_PASSWORD))[0] == 200


async def test_a_burst_of_parallel_attempts_cannot_outrun_the_count(throttled: tuple[TestClient, Clock]) -> None:
    client, _ = throttled
    answers = await asyncio.gather(*(_try(client, f"192.0.2.{n}") for n in range(20)))
    assert sorted(a[0] for a in answers) == [401] * 5 + [429] * 15


async def test_one_address_is_blocked_for_the_account_but_the_owner_is_not(
    aiohttp_client: Any, auth_env: dict[str, str], users: dict[str, int]
) -> None:
    # The per-IP limit (in Redis, on its own clock) is lifted: the account+address rule is under test.
    client, clock = await _throttled_app(aiohttp_client, {**auth_env, "AUTH_LOGIN_LIMIT": "1000"})
    for n in range(10):
        assert (await _try(client, "203.0.113.9"))[0] == 401, n
        clock.advance(60)  # past the slow-down each time: only the pair rule is left
    status, body = await _try(client, "203.0.113.9", PLAYER_PASSWORD)
    assert status == 429 and body["details"]["reason"] == "blocked" and "reset your password" in body["message"]
    assert 1 <= body["details"]["retry_after"] <= 900
    assert (await _try(client, "198.51.100.8", PLAYER_PASSWORD))[0] == 200  # elsewhere the owner logs in
    assert (await _try(client, "203.0.113.9", "wrong", who="player02"))[0] == 401  # other accounts unaffected
    clock.advance(900)
    assert (await _try(client, "203.0.113.9", PLAYER_PASSWORD))[0] == 200


async def test_a_password_reset_lifts_the_slow_down(
    throttled: tuple[TestClient, Clock], smtp: tuple[Inbox, int]
) -> None:
    client, _ = throttled
    for n in range(6):
        await _try(client, f"203.0.113.{n}")
    assert (await _try(client, "198.51.100.9", PLAYER_PASSWORD))[0] == 429
    mails = await _reset_mail(client, smtp[0], "player01@wagerbabe.test")
    token = _link(mails[0]).rpartition("token=")[2]
    resp = await client.post(f"{API}/password-reset/confirm", json={"token": token, "password": "brand-new-pass-1"})
    assert resp.status == 200
    assert (await _try(client, "198.51.100.9", "brand-new-pass-1"))[0] == 200


# -- 7. the web app's tokens: refresh in an httpOnly cookie, CSRF-checked --------------------------

def _set_cookie(resp: aiohttp.ClientResponse) -> str:
    headers = [v for v in resp.headers.getall("Set-Cookie", []) if v.startswith(f"{cookies.COOKIE}=")]
    assert len(headers) == 1, resp.headers
    return headers[0]


async def _cookie_login(client: TestClient, origin: str) -> tuple[aiohttp.ClientResponse, dict[str, Any]]:
    resp = await client.post(f"{API}/login", json={"login": "player01", "password": PLAYER_PASSWORD, "cookie": True},
                             headers={"Origin": origin})
    return resp, await resp.json()


def _own_origin(client: TestClient) -> str:
    return f"http://{client.host}:{client.port}"


async def test_web_login_puts_the_refresh_token_only_in_a_strict_httponly_cookie(client: TestClient) -> None:
    resp, body = await _cookie_login(client, _own_origin(client))
    assert resp.status == 200 and "refresh_token" not in body and body["access_token"]
    cookie = _set_cookie(resp).lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and f"path={cookies.PATH}" in cookie
    assert "secure" not in cookie  # plain-HTTP development page: a Secure cookie would never come back
    assert f"max-age={7 * 86400}" in cookie

    # A page served over HTTPS gets a Secure cookie.
    resp, _ = await _cookie_login(client, PUBLIC_URL)
    assert resp.status == 200 and "; secure" in _set_cookie(resp).lower()


async def test_cookie_refresh_rotates_and_a_page_reload_gets_a_new_access_token(client: TestClient) -> None:
    origin = _own_origin(client)
    _, first = await _cookie_login(client, origin)
    # A reload: no access token in memory, only the cookie (the client's jar sends it).
    resp = await client.post(f"{API}/refresh", json={}, headers={"Origin": origin})
    body = await resp.json()
    assert resp.status == 200 and "refresh_token" not in body and body["session_id"] == first["session_id"]
    assert (await client.get(f"{API}/me", headers=bearer(body))).status == 200
    assert _set_cookie(resp).split(";")[0] != f"{cookies.COOKIE}="
    # Logout clears the cookie, and the session is gone.
    resp = await client.post(f"{API}/logout", headers=bearer(body))
    assert resp.status == 204 and "max-age=0" in _set_cookie(resp).lower()
    client.session.cookie_jar.clear()
    resp = await client.post(f"{API}/refresh", json={}, headers={"Origin": origin})
    assert resp.status == 401 and (await resp.json())["error"] == "missing_refresh_token"


async def test_cookie_requests_from_another_site_or_without_origin_are_refused(client: TestClient) -> None:
    origin = _own_origin(client)
    await _cookie_login(client, origin)
    for headers in ({"Origin": f"https://{EVIL}"}, {"Origin": "null"}, {}, {"Origin": f"{origin}.{EVIL}"},
                    {"Origin": origin.replace("http:", "https:")}):
        resp = await client.post(f"{API}/refresh", json={}, headers=headers)
        body = await resp.json()
        assert resp.status == 403 and body["error"] == "csrf_origin", headers
        assert set(body) == {"error", "message", "details"}
    # Login CSRF (logging a victim into the attacker's account) is refused the same way.
    resp, body = await _cookie_login(client, f"https://{EVIL}")
    assert resp.status == 403 and body["error"] == "csrf_origin"
    # The refused requests spent nothing: the real page still refreshes.
    assert (await client.post(f"{API}/refresh", json={}, headers={"Origin": origin})).status == 200


async def test_api_clients_keep_bearer_tokens_without_cookies_or_origin(client: TestClient) -> None:
    tokens = await login(client)
    assert tokens["refresh_token"]
    resp = await client.post(f"{API}/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert resp.status == 200 and (await resp.json())["refresh_token"]
    assert not [v for v in resp.headers.getall("Set-Cookie", []) if v.startswith(cookies.COOKIE)]
