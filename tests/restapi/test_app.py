"""restapi's skeleton: health, readiness, metrics, the JSON error shape and trace ids in logs."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient

from devtools.devservers import EmbeddedRedis
from restapi.app import create_app
from restapi.config import RestSettings
from shared.config import load
from tests.helpers import captured_json_logs

TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


async def _client(aiohttp_client, env: dict[str, str], **over: object) -> TestClient:  # type: ignore[no-untyped-def]
    return await aiohttp_client(create_app(load(RestSettings, env, port=0, **over)))


async def test_healthz_and_readyz_answer(aiohttp_client, base_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    client = await _client(aiohttp_client, base_env)
    assert (await client.get("/healthz")).status == 200
    resp = await client.get("/readyz")
    assert resp.status == 200
    assert (await resp.json())["checks"] == {"postgres": "ok", "redis": "ok"}


async def test_readyz_is_503_with_reason_when_redis_is_down(  # type: ignore[no-untyped-def]
    aiohttp_client, base_env: dict[str, str], own_redis: EmbeddedRedis
) -> None:
    client = await _client(aiohttp_client, {**base_env, "REDIS_URL": own_redis.url})
    assert (await client.get("/readyz")).status == 200
    own_redis.stop()
    resp = await client.get("/readyz")
    body = await resp.json()
    assert resp.status == 503
    assert body["error"] == "not_ready" and "redis" in body["message"]
    assert body["details"]["checks"]["postgres"] == "ok" and body["details"]["checks"]["redis"] != "ok"


async def test_unknown_route_and_wrong_method_use_the_error_shape(  # type: ignore[no-untyped-def]
    aiohttp_client, base_env: dict[str, str]
) -> None:
    client = await _client(aiohttp_client, base_env)
    resp = await client.get("/no/such/route")
    assert resp.status == 404 and resp.content_type == "application/json"
    assert await resp.json() == {"error": "not_found", "message": "Not Found", "details": {}}
    resp = await client.post("/healthz")
    body = await resp.json()
    assert resp.status == 405 and body["error"] == "method_not_allowed" and "GET" in body["details"]["allowed"]


async def test_metrics_count_requests_by_route_and_status(  # type: ignore[no-untyped-def]
    aiohttp_client, base_env: dict[str, str]
) -> None:
    client = await _client(aiohttp_client, base_env)
    await client.get("/healthz")
    await client.get("/missing-route-for-metrics")
    text = await (await client.get("/metrics")).text()
    assert 'http_requests_total{method="GET",route="/healthz",service="restapi",status="200"}' in text
    assert 'route="unmatched",service="restapi",status="404"' in text
    assert "http_request_duration_seconds_bucket" in text


async def test_traceparent_is_carried_into_log_lines_and_response(  # type: ignore[no-untyped-def]
    aiohttp_client, base_env: dict[str, str]
) -> None:
    client = await _client(aiohttp_client, base_env)
    with captured_json_logs("restapi") as lines:
        resp = await client.get("/healthz", headers={"traceparent": TRACE})
    assert resp.headers["traceparent"].split("-")[1] == "4bf92f3577b34da6a3ce929d0e0e4736"
    access = [x for x in lines if x["logger"] == "wagerbabe.access" and x["path"] == "/healthz"]
    assert access and access[0]["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"


async def test_missing_traceparent_gets_a_generated_trace(  # type: ignore[no-untyped-def]
    aiohttp_client, base_env: dict[str, str]
) -> None:
    client = await _client(aiohttp_client, base_env)
    with captured_json_logs("restapi") as lines:
        resp = await client.get("/healthz")
    trace_id = resp.headers["traceparent"].split("-")[1]
    assert len(trace_id) == 32
    assert any(x.get("trace_id") == trace_id for x in lines)


async def test_openapi_spec_is_version_3(aiohttp_client, base_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    client = await _client(aiohttp_client, base_env)
    spec = await (await client.get("/docs/openapi.json")).json()
    assert spec["openapi"].startswith("3.") and spec["info"]["title"] == "WagerBabe API"
    assert (await client.get("/docs")).status == 200


def test_keys_dir_default_is_project_local() -> None:
    assert load(RestSettings, {}).keys_dir == Path(".data/keys")
