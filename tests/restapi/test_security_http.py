"""HTTP hardening of restapi (issue 13): path ids, HEAD on streamed answers, security headers, slow clients.

Each test here failed before its fix: "³" as an id was a 500, HEAD on a streamed report sent its body
on a kept-alive connection, pages carried no security headers, and a client sending its headers
slowly held a connection for 75 s.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiopg
import orjson
import pytest
from aiohttp.test_utils import TestClient

from restapi.app import create_app
from restapi.config import RestSettings
from shared.config import load
from shared.tokens import KeyRing, access_claims
from shared.web import MAX_ID, parse_id
from tests.conftest import TIMEOUT_FACTOR
from tests.helpers import served, slow_request, wait_for
from tests.restapi.agent.conftest import BOOK

# Ids that are not a bigint in canonical ASCII: Unicode digits (int() fails on "³", and turns "٣" and
# "３" into 3, an alias of another id), signs, spaces, exponents, leading zeros, out of range.
BAD_IDS = ["³", "²", "¹⁰", "٣", "３", "߁", "१", "𝟏", "Ⅻ", "½", "-1", "+1", "1e3", "1.0", "0x1", " 1", "1 ",
           "0", "00", "007", str(MAX_ID + 1), "9" * 20, "9" * 200, "1_000", "１０", "\u0661\u0660"]


@pytest.fixture
async def api(aiohttp_client: Any, base_env: dict[str, str], database_url: str) -> TestClient:
    async with aiopg.connect(database_url) as conn, conn.cursor() as cur:
        await cur.execute(BOOK)
    return await aiohttp_client(create_app(load(RestSettings, base_env, port=0, api_limit=100_000)))  # type: ignore[no-any-return]


@pytest.fixture
def tokens(keys_dir: Path) -> dict[str, str]:
    ring = KeyRing.load(keys_dir)
    return {"admin": ring.sign(access_claims(1, "admin", None, ttl=600)),
            "agent": ring.sign(access_claims(2, "agent", None, ttl=600)),
            "player": ring.sign(access_claims(10, "player", 2, ttl=600))}


def test_parse_id_takes_only_canonical_ascii_bigints() -> None:
    assert [parse_id(t) for t in ("1", "42", str(MAX_ID))] == [1, 42, MAX_ID]
    assert [t for t in BAD_IDS if parse_id(t) is not None] == []


async def test_no_path_id_gives_a_500(api: TestClient, tokens: dict[str, str]) -> None:
    """Every route with a numeric path id answers a strange id with a JSON 404, for every role."""
    regrade = {"reason": "Score corrected", "legs": [{"leg_no": 1, "result": "won"}]}
    routes: list[tuple[str, str, str, Any]] = [
        ("GET", "/api/v1/betting/bets/{}", "player", None),
        ("POST", "/api/v1/betting/bets/{}/regrade", "agent", regrade),
        ("GET", "/api/v1/agent/clients/{}", "agent", None),
        ("PATCH", "/api/v1/agent/clients/{}", "agent", {"display_name": "X"}),
        ("GET", "/api/v1/agent/clients/{}/bets", "agent", None),
        ("POST", "/api/v1/agent/clients/{}/deactivate", "agent", None),
        ("POST", "/api/v1/agent/clients/{}/reactivate", "agent", None),
        ("POST", "/api/v1/agent/settlements/{}/payments", "admin", {"amount_cents": 100, "method": "cash"}),
    ]
    seen = 0
    for method, template, who, body in routes:
        for raw in BAD_IDS:
            resp = await api.request(method, template.format(raw), json=body,
                                     headers={"Authorization": f"Bearer {tokens[who]}"})
            got = await resp.json()
            assert resp.status == 404, (method, template, raw, resp.status, got)
            assert set(got) == {"error", "message", "details"} and got["error"].endswith("_not_found")
            seen += 1
    assert seen == len(routes) * len(BAD_IDS)


async def _raw_exchange(port: int, requests: list[bytes], answers: int) -> bytes:
    """Send ``requests`` pipelined on one connection and read until ``answers`` answers to GET are complete."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"".join(requests))
        await writer.drain()
        data = b""
        async with asyncio.timeout(10 * TIMEOUT_FACTOR):
            while data.count(b'"status":"ok"') < answers:  # the last request of each test is GET /healthz
                chunk = await reader.read(65536)
                assert chunk, f"connection closed early after {data!r}"
                data += chunk
        return data
    finally:
        writer.close()


def _split(data: bytes) -> list[tuple[bytes, bytes]]:
    """Split raw answers into (head, rest-until-next-status-line): what follows each header block."""
    out = []
    parts = data.split(b"HTTP/1.1 ")
    for part in parts[1:]:
        head, _, rest = part.partition(b"\r\n\r\n")
        out.append((head, rest))
    return out


@pytest.mark.parametrize("path", ["/api/v1/agent/reports/customers", "/api/v1/agent/reports/customers?format=csv",
                                  "/api/v1/agent/reports/performance?format=csv"])
async def test_head_on_a_streamed_answer_sends_no_body_and_the_connection_stays_in_step(
        api: TestClient, tokens: dict[str, str], path: str) -> None:
    auth = f"Authorization: Bearer {tokens['agent']}\r\n".encode()
    get = await api.get(path, headers={"Authorization": f"Bearer {tokens['agent']}"})
    assert get.status == 200 and len(await get.read()) > 0  # GET has a body to leak
    head = b"HEAD " + path.encode() + b" HTTP/1.1\r\nHost: t\r\n" + auth + b"\r\n"
    health = b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
    data = await _raw_exchange(api.port, [head, health], 1)  # type: ignore[arg-type]
    answers = _split(data)
    assert len(answers) == 2, data
    (head_answer, after_head), (health_answer, health_body) = answers
    assert head_answer.startswith(b"200") and after_head == b"", data  # not one body byte after HEAD
    assert health_answer.startswith(b"200") and orjson.loads(health_body)["status"] == "ok"
    assert b"transfer-encoding" not in head_answer.lower()


async def test_head_on_plain_answers_is_still_bodyless(api: TestClient, tokens: dict[str, str]) -> None:
    head = b"HEAD /api/v1/agent/clients HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + tokens["agent"].encode()
    data = await _raw_exchange(api.port, [head + b"\r\n\r\n", b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"], 1)  # type: ignore[arg-type]
    (first, after), (second, _body) = _split(data)
    assert first.startswith(b"200") and after == b"" and second.startswith(b"200")


# Slow clients: the limits are small here (scaled by TEST_TIMEOUT_FACTOR); production defaults are 10 s.
SLOW = min(10.0, 0.4 * TIMEOUT_FACTOR)
StartRest = Callable[..., Awaitable[int]]


@pytest.fixture
async def start_rest(base_env: dict[str, str]) -> AsyncIterator[StartRest]:
    """Start restapi as ``python -m restapi`` serves it (``shared.service.start_server``, with its limits)."""
    async with served() as serve:
        async def start(**overrides: Any) -> int:
            settings = load(RestSettings, base_env, port=0, **overrides)
            return await serve(create_app(settings), settings.conn_limits())

        yield start


async def test_slow_headers_get_408_and_the_connection_closes(start_rest: StartRest) -> None:
    """20 clients trickling header lines: each gets a 408 and is closed (before: held for 75 s, no answer)."""
    port = await start_rest(header_timeout=SLOW, max_conns_per_ip=0)
    results = await asyncio.gather(*(
        slow_request(port, b"GET /healthz HTTP/1.1\r\nHost: t\r\n", b"X-Slow: 1\r\n", SLOW / 8, 10 + 20 * SLOW)
        for _ in range(20)))
    for data, closed in results:
        assert closed and data.startswith(b"HTTP/1.1 408 "), data
        assert orjson.loads(data.partition(b"\r\n\r\n")[2])["error"] == "request_timeout"


async def test_a_silent_connection_is_closed_after_the_header_timeout(start_rest: StartRest) -> None:
    port = await start_rest(header_timeout=SLOW)
    data, closed = await slow_request(port, b"", b"", 1.0, 10 + 20 * SLOW)
    assert closed and data.startswith(b"HTTP/1.1 408 "), data


async def test_a_slow_body_gets_408_and_the_connection_closes(start_rest: StartRest) -> None:
    port = await start_rest(body_timeout=SLOW)
    head = (b"POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Content-Length: 4000\r\n\r\n{\"login\": ")
    data, closed = await slow_request(port, head, b" ", SLOW / 8, 10 + 20 * SLOW)
    assert closed and data.startswith(b"HTTP/1.1 408 "), data
    assert orjson.loads(data.partition(b"\r\n\r\n")[2])["error"] == "request_timeout"


async def test_quick_clients_are_unaffected_by_the_timeouts(start_rest: StartRest) -> None:
    port = await start_rest(header_timeout=SLOW, body_timeout=SLOW)
    data = await _raw_exchange(port, [b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"] * 3, 3)
    assert data.count(b"HTTP/1.1 200 ") == 3


async def _open(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


async def test_one_address_may_hold_only_its_connection_cap(start_rest: StartRest) -> None:
    port = await start_rest(max_conns_per_ip=5)
    held = [await _open(port) for _ in range(5)]
    reader, writer = await _open(port)  # the sixth
    async with asyncio.timeout(10 * TIMEOUT_FACTOR):
        refused = await reader.read()  # answered at once and closed
    writer.close()
    assert refused.startswith(b"HTTP/1.1 429 "), refused
    assert orjson.loads(refused.partition(b"\r\n\r\n")[2])["error"] == "too_many_connections"
    # The held ones still work; once one closes, a new connection is served again.
    r0, w0 = held[0]
    w0.write(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    assert (await r0.read()).startswith(b"HTTP/1.1 200 ")
    w0.close()

    async def served() -> bool:
        r, w = await _open(port)
        w.write(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        answer = await r.read()
        w.close()
        return answer.startswith(b"HTTP/1.1 200 ")

    await wait_for(served, 10, "a connection served after one of the five closed")
    for _r, w in held[1:]:
        w.close()


async def test_trusted_proxies_are_exempt_from_the_cap(start_rest: StartRest) -> None:
    """Every client behind a proxy shares its address: the proxy caps each client (deploy/ configs)."""
    port = await start_rest(max_conns_per_ip=2, trusted_proxies=("127.0.0.1",))
    held = [await _open(port) for _ in range(4)]
    for r, w in held:
        w.write(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        assert (await r.read()).startswith(b"HTTP/1.1 200 ")
        w.close()


async def test_every_page_asset_and_answer_carries_the_security_headers(api: TestClient) -> None:
    pages = ["/login", "/reset-password", "/sports", "/league/basketball_nba", "/event/e1", "/history", "/profile",
             "/agent", "/agent/customers", "/agent/customers/10", "/agent/cashier", "/agent/settlements",
             "/agent/reports", "/sw.js", "/robots.txt", "/favicon.ico", "/healthz", "/api/v1/shared/sports",
             "/api/v1/betting/bets/³", "/no-such-page"]
    html = await (await api.get("/login")).text()
    assets = sorted({part.split('"')[0] for part in html.split('"/static/')[1:]})
    assert len(assets) >= 3
    for path in pages + [f"/static/{name}" for name in assets]:
        resp = await api.get(path, allow_redirects=False)
        h = resp.headers
        csp = h.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe" not in csp, (path, csp)
        assert "connect-src 'self' ws://127.0.0.1:8081/ws" in csp, csp  # the push URL (the default here)
        assert h.get("X-Content-Type-Options") == "nosniff" and h.get("Referrer-Policy") == "no-referrer", path
        assert "camera=()" in h.get("Permissions-Policy", "") and h.get("X-Frame-Options") == "DENY", path
        assert h.get("Server") == "WagerBabe", (path, h.get("Server"))  # no version
        assert "Strict-Transport-Security" not in h  # plain HTTP, and HSTS is off by default
        await resp.read()


async def test_hsts_only_over_https_when_set(aiohttp_client: Any, base_env: dict[str, str]) -> None:
    app = create_app(load(RestSettings, base_env, port=0, hsts_max_age=31536000, trusted_proxies=("127.0.0.1",)))
    client = await aiohttp_client(app)
    resp = await client.get("/login", headers={"X-Forwarded-Proto": "https"})  # from a trusted proxy
    assert resp.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    resp = await client.get("/login")
    assert "Strict-Transport-Security" not in resp.headers


async def test_swagger_ui_gets_its_inline_script_hash_not_unsafe_inline(api: TestClient) -> None:
    resp = await api.get("/docs")
    csp, html = resp.headers["Content-Security-Policy"], await resp.text()
    assert "<script>" in html and "'sha256-" in csp and "script-src 'self' 'sha256-" in csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";")[0]


async def test_the_real_process_under_uvloop_refuses_past_the_default_cap(restapi_server: str) -> None:
    """``python -m restapi`` (uvloop, the default cap of 100): the 101st connection of one address gets 429."""
    port = int(restapi_server.rsplit(":", 1)[1])
    held = [await _open(port) for _ in range(100)]
    try:
        reader, writer = await _open(port)
        async with asyncio.timeout(10 * TIMEOUT_FACTOR):
            refused = await reader.read()
        writer.close()
        assert refused.startswith(b"HTTP/1.1 429 "), refused
    finally:
        for _r, w in held:
            w.close()
