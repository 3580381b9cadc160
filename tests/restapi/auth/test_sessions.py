"""Login, signup, refresh rotation with reuse detection, logout, sessions per device, deactivation."""

from __future__ import annotations

from typing import Any

import jwt
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from shared import pushticket, streams
from tests.restapi.auth.conftest import bearer, login, sql

API = "/api/v1/auth"


async def test_login_by_login_name_or_email_returns_rs256_tokens_with_kid_and_claims(
    client: TestClient, users: dict[str, int]
) -> None:
    by_login = await login(client, "player01")
    by_email = await login(client, "  Player01@WAGERBABE.test ")
    for body in (by_login, by_email):
        header = jwt.get_unverified_header(body["access_token"])
        claims = jwt.decode(body["access_token"], options={"verify_signature": False})
        assert header["alg"] == "RS256" and header["kid"]
        assert claims["sub"] == str(users["player01"]) and claims["role"] == "player"
        assert claims["agent_id"] == users["agent1"] and claims["jti"]
        assert 0 < claims["exp"] - claims["iat"] <= 3600
        assert body["token_type"] == "Bearer" and body["refresh_expires_in"] <= 7 * 86400
        assert body["user"]["login"] == "player01" and body["user"]["email"] == "player01@wagerbabe.test"
    assert by_login["session_id"] != by_email["session_id"]
    resp = await client.get(f"{API}/me", headers=bearer(by_email))
    assert resp.status == 200 and (await resp.json())["id"] == users["player01"]


async def test_wrong_password_and_unknown_login_get_the_same_401(client: TestClient) -> None:
    for who in ("player01", "nobody-here"):
        resp = await client.post(f"{API}/login", json={"login": who, "password": "wrong-pass-123"})
        assert resp.status == 401
        assert await resp.json() == {"error": "invalid_credentials", "message": "Wrong login or password",
                                     "details": {}}


async def test_refresh_rotates_and_reuse_revokes_the_family_saying_so(client: TestClient, database_url: str) -> None:
    first = await login(client)
    resp = await client.post(f"{API}/refresh", json={"refresh_token": first["refresh_token"]})
    second = await resp.json()
    assert resp.status == 200 and second["refresh_token"] != first["refresh_token"]
    assert second["session_id"] == first["session_id"]
    assert (await client.get(f"{API}/me", headers=bearer(second))).status == 200

    # The spent token comes back after the retry grace (a stolen copy): the whole session dies,
    # newest tokens included.
    await sql(database_url, "UPDATE refresh_tokens SET used_at = used_at - interval '1 minute'")
    resp = await client.post(f"{API}/refresh", json={"refresh_token": first["refresh_token"]})
    body = await resp.json()
    assert resp.status == 401 and body["error"] == "refresh_token_reused" and "revoked" in body["message"]
    resp = await client.post(f"{API}/refresh", json={"refresh_token": second["refresh_token"]})
    assert resp.status == 401 and (await resp.json())["error"] == "session_revoked"
    resp = await client.get(f"{API}/me", headers=bearer(second))
    assert resp.status == 401 and (await resp.json())["error"] == "token_revoked"


async def test_unknown_refresh_token_is_401(client: TestClient) -> None:
    resp = await client.post(f"{API}/refresh", json={"refresh_token": "not-a-token"})
    assert resp.status == 401 and (await resp.json())["error"] == "invalid_refresh_token"


async def test_logout_denylists_the_access_token_and_revokes_only_this_device(client: TestClient) -> None:
    phone = await login(client, device="phone")
    laptop = await login(client, device="laptop")
    assert (await client.post(f"{API}/logout", headers=bearer(phone))).status == 204
    resp = await client.get(f"{API}/me", headers=bearer(phone))
    assert resp.status == 401 and (await resp.json())["error"] == "token_revoked"
    resp = await client.post(f"{API}/refresh", json={"refresh_token": phone["refresh_token"]})
    assert resp.status == 401
    assert (await client.get(f"{API}/me", headers=bearer(laptop))).status == 200
    resp = await client.post(f"{API}/refresh", json={"refresh_token": laptop["refresh_token"]})
    assert resp.status == 200


async def test_logout_all_ends_every_device(client: TestClient) -> None:
    devices = [await login(client, device=name) for name in ("phone", "tablet", "laptop")]
    resp = await client.post(f"{API}/logout-all", headers=bearer(devices[0]))
    assert resp.status == 200 and (await resp.json()) == {"revoked": 3}
    for tokens in devices:
        assert (await client.get(f"{API}/me", headers=bearer(tokens))).status == 401
        resp = await client.post(f"{API}/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert resp.status == 401


async def test_sessions_are_listed_per_device_and_one_can_be_revoked(client: TestClient) -> None:
    phone = await login(client, device="phone", **{"User-Agent": "WagerBabe/1.0 (iOS)"})
    laptop = await login(client, device="laptop")
    resp = await client.get(f"{API}/sessions", headers=bearer(phone))
    listed = (await resp.json())["sessions"]
    assert {s["device"] for s in listed} == {"phone", "laptop"}
    mine = next(s for s in listed if s["current"])
    assert mine["id"] == phone["session_id"] and mine["user_agent"] == "WagerBabe/1.0 (iOS)"

    resp = await client.delete(f"{API}/sessions/{laptop['session_id']}", headers=bearer(phone))
    assert resp.status == 204
    assert (await client.get(f"{API}/me", headers=bearer(laptop))).status == 401
    resp = await client.post(f"{API}/refresh", json={"refresh_token": laptop["refresh_token"]})
    assert resp.status == 401 and (await resp.json())["details"]["reason"] == "revoked"
    listed = (await (await client.get(f"{API}/sessions", headers=bearer(phone))).json())["sessions"]
    assert [s["device"] for s in listed] == ["phone"]
    for gone in (laptop["session_id"], "5b0f7c4e-8a51-4d0e-9a43-0c0a1e7c9b21"):
        resp = await client.delete(f"{API}/sessions/{gone}", headers=bearer(phone))
        assert resp.status == 404 and (await resp.json())["error"] == "session_not_found"
    resp = await client.delete(f"{API}/sessions/not-a-uuid", headers=bearer(phone))
    assert resp.status == 422 and "session_id" in (await resp.json())["details"]


async def test_someone_elses_session_cannot_be_revoked(client: TestClient) -> None:
    mine = await login(client, "player01")
    theirs = await login(client, "player02")
    resp = await client.delete(f"{API}/sessions/{theirs['session_id']}", headers=bearer(mine))
    assert resp.status == 404
    assert (await client.get(f"{API}/me", headers=bearer(theirs))).status == 200


async def test_deactivated_user_cannot_log_in_or_refresh(client: TestClient, database_url: str) -> None:
    tokens = await login(client, "player02")
    await sql(database_url, "UPDATE users SET status = 'inactive' WHERE login = 'player02'")
    resp = await client.post(f"{API}/login", json={"login": "player02", "password": "player-pass-123"})
    assert resp.status == 403 and (await resp.json())["error"] == "account_inactive"
    resp = await client.post(f"{API}/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert resp.status == 403 and (await resp.json())["error"] == "account_inactive"


async def test_signup_creates_a_player_under_the_agent_and_logs_in(
    client: TestClient, users: dict[str, int], database_url: str
) -> None:
    body = {"email": "  New.Player@Example.COM ", "password": "a-good-pass-1", "agent": "agent1"}
    resp = await client.post(f"{API}/signup", json=body)
    created: dict[str, Any] = await resp.json()
    assert resp.status == 201, created
    user = created["user"]
    assert user["email"] == "new.player@example.com" and user["login"] == "new.player"
    assert user["role"] == "player" and user["agent_id"] == users["agent1"]
    assert (await client.get(f"{API}/me", headers=bearer(created))).status == 200
    stored = await sql(database_url, "SELECT password_hash FROM users WHERE id = %(id)s", {"id": user["id"]})
    assert stored[0][0].startswith("$2b$12$")  # bcrypt cost 12, never the password itself
    await login(client, "new.player@example.com", "a-good-pass-1")

    again = await client.post(f"{API}/signup", json={**body, "email": "new.player@example.com"})
    assert again.status == 409 and (await again.json())["error"] == "email_taken"
    taken = await client.post(f"{API}/signup", json={**body, "email": "x@example.com", "login": "player01"})
    assert taken.status == 409 and (await taken.json())["error"] == "login_taken"
    derived = await client.post(f"{API}/signup", json={**body, "email": "new.player@other.example"})
    assert derived.status == 201 and (await derived.json())["user"]["login"].startswith("new.player")
    unknown = await client.post(f"{API}/signup", json={**body, "email": "y@example.com", "agent": "player01"})
    assert unknown.status == 422 and "agent" in (await unknown.json())["details"]


async def test_password_length_is_checked_in_bytes(client: TestClient) -> None:
    base = {"email": "len@example.com", "agent": "agent1"}
    for password, ok in (("short", False), ("é" * 36, True), ("é" * 37, False), ("a" * 73, False)):
        resp = await client.post(f"{API}/signup", json={**base, "password": password})
        body = await resp.json()
        if ok:
            assert resp.status == 201, body
        else:
            assert resp.status == 422 and "password" in body["details"], body


async def test_a_refresh_retried_within_the_grace_gets_new_tokens_in_the_same_session(
        client: TestClient, database_url: str) -> None:
    """A phone whose refresh answer was lost retries with the same token; an app with several
    requests in flight refreshes from each at once. Within AUTH_REFRESH_REUSE_GRACE (30 s) both are
    answered, each with a new pair in the same session; the row lock makes them take turns."""
    import asyncio

    tokens = await login(client)
    resps = await asyncio.gather(*(client.post(f"{API}/refresh", json={"refresh_token": tokens["refresh_token"]})
                                   for _ in range(4)))
    bodies = [await r.json() for r in resps]
    assert [r.status for r in resps] == [200] * 4, bodies
    assert len({b["refresh_token"] for b in bodies}) == 4 and {b["session_id"] for b in bodies} == {
        tokens["session_id"]}
    for body in bodies:  # every answer works, for REST and for the next refresh
        assert (await client.get(f"{API}/me", headers=bearer(body))).status == 200
    resp = await client.post(f"{API}/refresh", json={"refresh_token": bodies[0]["refresh_token"]})
    assert resp.status == 200

    # Past the grace the same spent token is a stolen copy: the session is revoked.
    await sql(database_url, "UPDATE refresh_tokens SET used_at = used_at - interval '1 minute'")
    resp = await client.post(f"{API}/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert resp.status == 401 and (await resp.json())["error"] == "refresh_token_reused"
    assert (await client.get(f"{API}/me", headers=bearer(bodies[1]))).status == 401


async def test_revoke_all_for_deactivation_ends_sessions_at_once(
    client: TestClient, users: dict[str, int], database_url: str
) -> None:
    from restapi.auth.service import revoke_all
    from restapi.keys import PG, REDIS

    tokens = await login(client, "player02")
    await sql(database_url, "UPDATE users SET status = 'inactive' WHERE login = 'player02'")
    assert await revoke_all(client.app[PG], client.app[REDIS], users["player02"]) == 1
    resp = await client.get(f"{API}/me", headers=bearer(tokens))
    assert resp.status == 401 and (await resp.json())["error"] == "token_revoked"
    reasons = await sql(database_url, "SELECT revoked_reason FROM auth_sessions WHERE user_id = %(id)s",
                        {"id": users["player02"]})
    assert reasons == [("deactivated",)]


async def test_logout_after_refresh_also_revokes_the_earlier_access_token(client: TestClient) -> None:
    first = await login(client)
    resp = await client.post(f"{API}/refresh", json={"refresh_token": first["refresh_token"]})
    second = await resp.json()
    assert (await client.get(f"{API}/me", headers=bearer(first))).status == 200  # still alive until it expires
    assert (await client.post(f"{API}/logout", headers=bearer(second))).status == 204
    for tokens in (first, second):
        resp = await client.get(f"{API}/me", headers=bearer(tokens))
        assert resp.status == 401 and (await resp.json())["error"] == "token_revoked"


async def test_agent_deactivating_a_player_logs_the_player_out_everywhere(client: TestClient, redis_url: str) -> None:
    player = await login(client, "player02")
    agent = await login(client, "agent1", "agent-pass-123")
    player_id = player["user"]["id"]
    resp = await client.post(f"/api/v1/agent/clients/{player_id}/deactivate", headers=bearer(agent))
    assert resp.status == 200, await resp.json()
    # pushd acts on the first it reads: account.status (close 4003, stop reconnecting) comes first.
    r = aioredis.Redis.from_url(redis_url)
    try:
        kinds = [streams.decode_notify(f)["kind"] for _i, f in await r.xrange(streams.NOTIFY)]
    finally:
        await r.aclose()
    assert kinds == ["account.status", "session.revoked"]
    resp = await client.get(f"{API}/me", headers=bearer(player))
    assert resp.status == 401 and (await resp.json())["error"] == "token_revoked"
    resp = await client.post(f"{API}/refresh", json={"refresh_token": player["refresh_token"]})
    assert resp.status == 401 and (await resp.json())["details"]["reason"] == "deactivated"


async def _revoked_jtis(redis_url: str, user_id: int) -> list[set[str]]:
    """The jti sets of the ``session.revoked`` notify entries for ``user_id``, oldest first."""
    r = aioredis.Redis.from_url(redis_url)
    try:
        entries = [streams.decode_notify(f) for _i, f in await r.xrange(streams.NOTIFY)]
    finally:
        await r.aclose()
    return [set(e["data"]["jtis"]) for e in entries if e["user"] == user_id and e["kind"] == "session.revoked"]


def _jti(tokens: dict[str, Any]) -> str:
    return str(jwt.decode(tokens["access_token"], options={"verify_signature": False})["jti"])


async def test_revocations_tell_pushd_which_tokens_died(client: TestClient, redis_url: str) -> None:
    first = await login(client, device="phone")
    user_id = first["user"]["id"]
    second = await (await client.post(f"{API}/refresh", json={"refresh_token": first["refresh_token"]})).json()
    tablet, laptop = await login(client, device="tablet"), await login(client, device="laptop")

    assert (await client.post(f"{API}/logout", headers=bearer(second))).status == 204
    assert await _revoked_jtis(redis_url, user_id) == [{_jti(first), _jti(second)}]
    resp = await client.delete(f"{API}/sessions/{tablet['session_id']}", headers=bearer(laptop))
    assert resp.status == 204
    assert (await _revoked_jtis(redis_url, user_id))[-1] == {_jti(tablet)}
    assert (await client.post(f"{API}/logout-all", headers=bearer(laptop))).status == 200
    assert (await _revoked_jtis(redis_url, user_id))[-1] == {_jti(laptop)}


async def test_a_push_ticket_names_the_token_it_was_bought_with(client: TestClient, redis_url: str) -> None:
    tokens = await login(client)
    resp = await client.post(f"{API}/push-ticket", headers=bearer(tokens))
    ticket = (await resp.json())["ticket"]
    r = aioredis.Redis.from_url(redis_url)
    try:
        claims = await pushticket.redeem(r, ticket)
    finally:
        await r.aclose()
    exp = jwt.decode(tokens["access_token"], options={"verify_signature": False})["exp"]
    assert claims is not None and claims["jti"] == _jti(tokens) and claims["token_exp"] == exp
