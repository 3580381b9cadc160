"""The shared middlewares: every failure becomes the JSON error shape, never HTML or a traceback."""

from __future__ import annotations

from aiohttp import web

from shared.errors import Conflict, RateLimited, ValidationFailed
from shared.web import json_response, read_json, standard_middlewares


def _app() -> web.Application:
    app = web.Application(middlewares=standard_middlewares(), client_max_size=1024)

    async def echo(request: web.Request) -> web.Response:
        return json_response(await read_json(request))

    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("secret internals")

    async def conflict(request: web.Request) -> web.Response:
        raise Conflict("Already exists", details={"id": 3})

    async def limited(request: web.Request) -> web.Response:
        raise RateLimited(retry_after=7)

    async def invalid(request: web.Request) -> web.Response:
        raise ValidationFailed(details={"stake": ["must be positive"]})

    app.router.add_post("/echo", echo)
    app.router.add_get("/boom", boom)
    app.router.add_get("/conflict", conflict)
    app.router.add_get("/limited", limited)
    app.router.add_get("/invalid", invalid)
    return app


async def test_bad_bodies_get_clear_4xx(aiohttp_client) -> None:  # type: ignore[no-untyped-def]
    client = await aiohttp_client(_app())
    cases = [
        (b"", 400, "invalid_json"),
        (b"{not json", 400, "invalid_json"),
        (b"\xff\xfe\x00garbage", 400, "invalid_json"),
        (b"[1, 2]", 422, "validation_error"),
        (b"x" * 5000, 413, "payload_too_large"),
    ]
    for body, status, code in cases:
        resp = await client.post("/echo", data=body, headers={"Content-Type": "application/json"})
        doc = await resp.json()
        assert (resp.status, doc["error"]) == (status, code), body[:20]
        assert set(doc) == {"error", "message", "details"}
    resp = await client.post("/echo", data=b'{"a": 1}')
    assert await resp.json() == {"a": 1}


async def test_unexpected_exception_is_a_bare_500_json(aiohttp_client) -> None:  # type: ignore[no-untyped-def]
    client = await aiohttp_client(_app())
    resp = await client.get("/boom")
    text = await resp.text()
    assert resp.status == 500 and resp.content_type == "application/json"
    assert "secret internals" not in text and "Traceback" not in text


async def test_app_errors_map_to_status_code_and_headers(aiohttp_client) -> None:  # type: ignore[no-untyped-def]
    client = await aiohttp_client(_app())
    resp = await client.get("/conflict")
    assert resp.status == 409 and await resp.json() == {
        "error": "conflict", "message": "Already exists", "details": {"id": 3}}
    resp = await client.get("/limited")
    assert resp.status == 429 and resp.headers["Retry-After"] == "7"
    assert (await resp.json())["details"]["retry_after"] == 7
    resp = await client.get("/invalid")
    assert resp.status == 422 and (await resp.json())["details"] == {"stake": ["must be positive"]}
