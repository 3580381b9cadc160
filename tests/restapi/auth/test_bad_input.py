"""Hostile and broken input always gets a 4xx in the error shape, never a 500."""

from __future__ import annotations

import re

import pytest
from aiohttp.test_utils import TestClient

from tests.helpers import captured_json_logs
from tests.restapi.auth.conftest import bearer, login, sql

JSON = {"Content-Type": "application/json"}
BODIES: list[tuple[str, bytes]] = [
    ("malformed", b'{"login": "player01", "password": '),
    ("not utf-8", b'{"login": "\xff\xfe", "password": "player-pass-123"}'),
    ("array", b'["player01", "player-pass-123"]'),
    ("empty", b""),
    ("null", b"null"),
    ("wrong types", b'{"login": 12, "password": ["x"]}'),
    ("unknown field", b'{"login": "player01", "password": "player-pass-123", "admin": true}'),
    ("missing field", b'{"login": "player01"}'),
    ("sql", b'{"login": "\' OR 1=1; DROP TABLE users; --", "password": "x\' OR \'1\'=\'1"}'),
    ("nul", b'{"login": "player01\\u0000", "password": "player-pass-123"}'),
    ("lone surrogate", b'{"login": "\\ud800", "password": "player-pass-123"}'),
    ("deep nesting", b'{"login": ' + b"[" * 5000 + b"]" * 5000 + b', "password": "p"}'),
    ("huge number", b'{"login": 1' + b"0" * 5000 + b', "password": "p"}'),
]


def _is_error_shape(body: object) -> bool:
    return isinstance(body, dict) and set(body) == {"error", "message", "details"}


@pytest.mark.parametrize(("name", "raw"), BODIES, ids=[b[0] for b in BODIES])
async def test_bad_login_bodies_get_a_4xx_error_shape(client: TestClient, name: str, raw: bytes) -> None:
    resp = await client.post("/api/v1/auth/login", data=raw, headers=JSON)
    body = await resp.json()
    assert 400 <= resp.status < 500 and _is_error_shape(body), (name, resp.status, body)


async def test_huge_body_is_413(client: TestClient) -> None:
    raw = b'{"login": "' + b"a" * (300 * 1024) + b'", "password": "p"}'
    resp = await client.post("/api/v1/auth/login", data=raw, headers=JSON)
    assert resp.status == 413 and (await resp.json())["error"] == "payload_too_large"


async def test_sql_looking_and_odd_strings_in_every_write_route_are_4xx(client: TestClient) -> None:
    tokens = await login(client)
    sneaky = ["' OR 1=1 --", "x\u0000y", "\ud800", "😀" * 300, "a" * 5000]
    routes = [
        ("POST", "/api/v1/auth/signup", lambda v: {"email": v, "password": v, "agent": v}),
        ("POST", "/api/v1/auth/refresh", lambda v: {"refresh_token": v}),
        ("POST", "/api/v1/auth/password-reset/request", lambda v: {"email": v}),
        ("POST", "/api/v1/auth/password-reset/confirm", lambda v: {"token": v, "password": v}),
        ("PATCH", "/api/v1/user/profile", lambda v: {"display_name": v, "email": v, "phone": v}),
        ("PUT", "/api/v1/user/preferences", lambda v: {"odds_format": v, "default_stake_cents": v, "timezone": v,
                                                       "notifications": v, "accept_price_changes": v}),
    ]
    import orjson

    for method, path, make in routes:
        for value in sneaky:
            try:
                raw = orjson.dumps(make(value))
            except orjson.JSONEncodeError:  # a lone surrogate cannot be encoded: send the JSON escape
                raw = (b'{"x": "\\ud800"}')
            resp = await client.request(method, path, data=raw, headers={**JSON, **bearer(tokens)})
            body = await resp.json()
            assert 400 <= resp.status < 500 and _is_error_shape(body), (path, value[:20], resp.status, body)


async def test_bad_bearer_headers_are_401(client: TestClient) -> None:
    for header in ("Bearer", "Basic abc", "Bearer a.b.c", "Bearer " + "x" * 5000, "bearer \u00e9"):
        resp = await client.get("/api/v1/auth/me", headers={"Authorization": header.encode().decode("latin-1")})
        assert resp.status == 401 and _is_error_shape(await resp.json())


async def test_passwords_tokens_and_emails_never_reach_the_logs(client: TestClient, database_url: str) -> None:
    with captured_json_logs("restapi") as lines:
        tokens = await login(client, "player01@wagerbabe.test")
        refreshed = await (await client.post("/api/v1/auth/refresh",
                                             json={"refresh_token": tokens["refresh_token"]})).json()
        await sql(database_url, "UPDATE refresh_tokens SET used_at = used_at - interval '1 minute'")  # past grace
        await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})  # reuse: warns
        await client.post("/api/v1/auth/login", json={"login": "player01", "password": "wrong-pass-999"})
    text = "\n".join(str(line) for line in lines)
    assert lines and "refresh token reused" in text
    for secret in ("player-pass-123", "wrong-pass-999", tokens["access_token"], tokens["refresh_token"],
                   refreshed["refresh_token"], "player01@wagerbabe.test"):
        assert secret not in text


async def test_undecodable_header_bytes_are_stored_safely(client: TestClient) -> None:
    """A User-Agent with invalid UTF-8 (kept on the session) must not break the insert."""
    import asyncio

    body = b'{"login": "player01", "password": "player-pass-123", "device": "raw"}'
    assert client.port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    writer.write(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"User-Agent: bad \xff\xfe\xc3 bytes\r\n"
                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    # ... and a preflight from an undecodable Origin, whose name the 403 repeats.
    writer.write(b"OPTIONS /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nOrigin: https://\xff\xfe.example\r\n"
                 b"Access-Control-Request-Method: POST\r\nConnection: close\r\n\r\n")
    await writer.drain()
    raw = await reader.read()
    writer.close()
    await writer.wait_closed()
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", raw)
    assert statuses == [b"200", b"403"], raw[-500:]
    tokens = await login(client)
    listed = (await (await client.get("/api/v1/auth/sessions", headers=bearer(tokens))).json())["sessions"]
    assert any(s["device"] == "raw" and s["user_agent"].startswith("bad ") for s in listed)
