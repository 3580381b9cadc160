"""Rate limits (login per IP, API per user), the denylist, push tickets, JWKS and CORS."""

from __future__ import annotations

import asyncio
from typing import Any

import jwt
from aiohttp.test_utils import TestClient

from restapi.keys import REDIS
from shared import pushticket
from shared.tokens import Verifier
from tests.restapi.auth.conftest import bearer, login, make_client

API = "/api/v1/auth"


async def test_sixth_failed_login_in_a_minute_is_429_with_retry_after(client: TestClient) -> None:
    wrong = {"login": "player01", "password": "wrong-pass-123"}
    # Attempts run concurrently: the slot is taken before bcrypt, so a burst cannot overshoot.
    statuses = [r.status for r in await asyncio.gather(*(client.post(f"{API}/login", json=wrong) for _ in range(7)))]
    assert sorted(statuses) == [401] * 5 + [429] * 2
    resp = await client.post(f"{API}/login", json={"login": "player01", "password": "player-pass-123"})
    body = await resp.json()
    assert resp.status == 429 and body["error"] == "rate_limited"
    assert 1 <= int(resp.headers["Retry-After"]) <= 60 and body["details"]["retry_after"] >= 1


async def test_successful_logins_do_not_use_up_the_login_limit(client: TestClient) -> None:
    for _ in range(6):  # one more than the limit of 5
        await login(client)


async def test_api_limit_per_user_answers_429_past_the_limit(
    aiohttp_client: Any, auth_env: dict[str, str], users: dict[str, int]
) -> None:
    client = await make_client(aiohttp_client, {**auth_env, "API_RATE_LIMIT": "3"})
    one, other = await login(client, "player01"), await login(client, "player02")
    for _ in range(3):
        assert (await client.get(f"{API}/me", headers=bearer(one))).status == 200
    resp = await client.get(f"{API}/me", headers=bearer(one))
    assert resp.status == 429 and int(resp.headers["Retry-After"]) >= 1
    assert (await resp.json())["details"]["limit"] == 3
    assert (await client.get(f"{API}/me", headers=bearer(other))).status == 200


async def test_push_ticket_is_redeemed_once_by_pushd_code(client: TestClient, users: dict[str, int]) -> None:
    tokens = await login(client)
    resp = await client.post(f"{API}/push-ticket", headers=bearer(tokens))
    body = await resp.json()
    assert resp.status == 200 and body["ticket"].startswith("pt_") and body["expires_in"] == 30
    redis = client.app[REDIS]
    assert 0 < await redis.ttl(pushticket.key(body["ticket"])) <= 30
    results = await asyncio.gather(*(pushticket.redeem(redis, body["ticket"]) for _ in range(5)))
    claims = [r for r in results if r is not None]
    assert len(claims) == 1  # GETDEL: racing nodes cannot both accept one ticket
    assert claims[0]["sub"] == str(users["player01"]) and claims[0]["role"] == "player"
    assert await pushticket.redeem(redis, "pt_made-up") is None and await pushticket.redeem(redis, "x") is None
    assert (await client.post(f"{API}/push-ticket")).status == 401


async def test_jwks_verifies_access_tokens_after_rotation(client: TestClient) -> None:
    tokens = await login(client)
    resp = await client.get("/.well-known/jwks.json")
    doc = await resp.json()
    assert resp.status == 200 and all(k["alg"] == "RS256" and k["kid"] for k in doc["keys"])
    claims = Verifier.from_jwks(doc).verify(tokens["access_token"])
    assert claims["jti"] == jwt.decode(tokens["access_token"], options={"verify_signature": False})["jti"]


async def test_cors_allows_only_approved_origins(client: TestClient) -> None:
    ok = "https://app.wagerbabe.test"
    pre = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "Content-Type, Authorization"}
    resp = await client.options(f"{API}/login", headers={"Origin": ok, **pre})
    assert resp.status == 204 and resp.headers["Access-Control-Allow-Origin"] == ok
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]
    assert "authorization" in resp.headers["Access-Control-Allow-Headers"]
    resp = await client.options(f"{API}/login", headers={"Origin": "https://evil.example", **pre})
    assert resp.status == 403 and (await resp.json())["error"] == "cors_origin_denied"
    assert "Access-Control-Allow-Origin" not in resp.headers
    resp = await client.get(f"{API}/me", headers={"Origin": ok})
    assert resp.status == 401 and resp.headers["Access-Control-Allow-Origin"] == ok  # errors readable too
    resp = await client.get(f"{API}/me", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in resp.headers


async def test_me_is_cached_and_profile_changes_refresh_it(client: TestClient) -> None:
    tokens = await login(client)
    first = await (await client.get(f"{API}/me", headers=bearer(tokens))).json()
    assert await client.app[REDIS].exists(f"cache:me:{first['id']}")
    resp = await client.patch("/api/v1/user/profile", json={"display_name": "Renamed"}, headers=bearer(tokens))
    assert resp.status == 200
    again = await (await client.get(f"{API}/me", headers=bearer(tokens))).json()
    assert again["display_name"] == "Renamed"


async def test_signup_refresh_and_reset_confirm_are_limited_per_ip(
    aiohttp_client: Any, auth_env: dict[str, str], users: dict[str, int]
) -> None:
    env = {**auth_env, "AUTH_SIGNUP_LIMIT": "2", "AUTH_LOGIN_LIMIT": "2", "API_RATE_LIMIT": "2"}
    client = await make_client(aiohttp_client, env)
    calls = [
        ("/signup", {"email": "a@example.com", "password": "a-good-pass-1", "agent": "nobody"}),
        ("/refresh", {"refresh_token": "unknown"}),
        ("/password-reset/confirm", {"token": "unknown", "password": "a-good-pass-1"}),
    ]
    for path, body in calls:
        statuses = [(await client.post(f"{API}{path}", json=body)).status for _ in range(3)]
        assert statuses[:2] != [429, 429] and statuses[2] == 429, (path, statuses)


async def test_login_limit_is_per_client_ip(
    aiohttp_client: Any, auth_env: dict[str, str], users: dict[str, int]
) -> None:
    import aiohttp

    # A long window: a slot comes back only after 12 min, however slowly a loaded machine runs bcrypt.
    client = await make_client(aiohttp_client, {**auth_env, "AUTH_LOGIN_WINDOW": "3600"})
    wrong = {"login": "player02", "password": "wrong-pass-123"}
    for _ in range(5):
        await client.post(f"{API}/login", json=wrong)
    resp = await client.post(f"{API}/login", json=wrong)
    assert resp.status == 429 and (await resp.json())["error"] == "rate_limited"
    # Another source address on loopback has a limit of its own. (player02 itself is now slowed down
    # for new addresses by the per-account throttle, so another player logs in.)
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with aiohttp.ClientSession(connector=connector) as other:
        url = str(client.make_url(f"{API}/login"))
        async with other.post(url, json={"login": "player01", "password": "player-pass-123"}) as resp:
            assert resp.status == 200


async def test_redis_down_is_503_not_500_and_fails_closed(
    aiohttp_client: Any, auth_env: dict[str, str], users: dict[str, int], own_redis: Any
) -> None:
    client = await make_client(aiohttp_client, {**auth_env, "REDIS_URL": own_redis.url})
    tokens = await login(client)
    own_redis.stop()
    resp = await client.get(f"{API}/me", headers=bearer(tokens))
    body = await resp.json()
    assert resp.status == 503 and body["error"] == "redis_unavailable", body
    resp = await client.post(f"{API}/login", json={"login": "player01", "password": "player-pass-123"})
    assert resp.status == 503 and (await resp.json())["error"] == "redis_unavailable"


async def test_principal_and_get_reads_the_key_with_or_without_a_cached_principal(
    aiohttp_client: Any, auth_env: dict[str, str], users: dict[str, int]
) -> None:
    from aiohttp import web

    from restapi.app import create_app
    from restapi.auth.principal import principal, principal_and_get
    from restapi.config import RestSettings
    from shared.config import load

    app = create_app(load(RestSettings, auth_env, port=0))

    async def both(request: web.Request) -> web.Response:
        _, fresh = await principal_and_get(request, lambda uid: f"t:{uid}")
        await principal(request)  # cached now: the next read takes the other path
        _, again = await principal_and_get(request, lambda uid: f"t:{uid}")
        return web.json_response([fresh.decode() if fresh else None, again.decode() if again else None])

    app.router.add_get("/t/both", both)
    client = await aiohttp_client(app)
    tokens = await login(client)
    await client.app[REDIS].set(f"t:{users['player01']}", b"hello")
    resp = await client.get("/t/both", headers=bearer(tokens))
    assert await resp.json() == ["hello", "hello"]


def test_client_ip_trusts_forwarded_for_only_from_trusted_proxies() -> None:
    from restapi.fields import client_ip

    trusted = ("10.0.0.1", "10.0.0.2")
    assert client_ip("203.0.113.9", "1.2.3.4", trusted) == "203.0.113.9"  # a client cannot pick its IP
    assert client_ip("10.0.0.1", "198.51.100.7", trusted) == "198.51.100.7"
    # The left part is whatever the client sent; the right-most untrusted hop is what our proxy saw.
    assert client_ip("10.0.0.1", "1.2.3.4, 198.51.100.7, 10.0.0.2", trusted) == "198.51.100.7"
    assert client_ip("10.0.0.1", "", trusted) == "10.0.0.1"


async def test_login_limit_counts_the_forwarded_client_behind_a_trusted_proxy(
    aiohttp_client: Any, auth_env: dict[str, str], users: dict[str, int]
) -> None:
    client = await make_client(aiohttp_client, {**auth_env, "TRUSTED_PROXIES": "127.0.0.1"})
    # Wrong passwords for player02, a good login for player01: the per-account throttle (which
    # slows new addresses of an account with many failures) stays out of this per-address check.
    wrong = {"login": "player02", "password": "wrong-pass-123"}
    first = {"X-Forwarded-For": "198.51.100.7"}
    for _ in range(5):
        await client.post(f"{API}/login", json=wrong, headers=first)
    assert (await client.post(f"{API}/login", json=wrong, headers=first)).status == 429
    await login(client, **{"X-Forwarded-For": "198.51.100.8"})
