"""pushd's skeleton answers health, readiness and metrics."""

from __future__ import annotations

from pushd.app import create_app
from pushd.config import PushSettings
from shared.config import load


async def test_pushd_health_ready_metrics(aiohttp_client, base_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    client = await aiohttp_client(create_app(load(PushSettings, base_env, port=0)))
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/readyz")).status == 200
    assert "http_requests_total" in await (await client.get("/metrics")).text()
    resp = await client.get("/nowhere")
    assert resp.status == 404 and (await resp.json())["error"] == "not_found"
