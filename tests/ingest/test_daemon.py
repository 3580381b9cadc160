"""ingest and jobs daemons: side health port, readiness, and a clean stop."""

from __future__ import annotations

import asyncio

import aiohttp

from ingest import daemon
from ingest.config import IngestSettings
from restapi.config import RestSettings
from restapi.jobs import runner
from shared.config import load
from shared.daemon import DaemonContext
from tests.helpers import scaled


async def _exercise(run_coro_factory) -> None:  # type: ignore[no-untyped-def]
    stop = asyncio.Event()
    ready: asyncio.Future[DaemonContext] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_coro_factory(stop, ready.set_result))
    ctx = await asyncio.wait_for(ready, scaled(10))
    async with aiohttp.ClientSession() as http:
        base = f"http://127.0.0.1:{ctx.side_port}"
        async with http.get(f"{base}/healthz") as resp:
            assert resp.status == 200
        async with http.get(f"{base}/readyz") as resp:
            assert resp.status == 200 and (await resp.json())["checks"] == {"postgres": "ok", "redis": "ok"}
        async with http.get(f"{base}/metrics") as resp:
            assert "http_requests_total" in await resp.text()
    stop.set()
    await asyncio.wait_for(task, scaled(10))


async def test_ingest_daemon_serves_health_and_stops(base_env: dict[str, str]) -> None:
    settings = load(IngestSettings, base_env, port=0)
    await _exercise(lambda stop, cb: daemon.run(settings, stop, on_ready=cb))


async def test_jobs_process_serves_health_and_stops(base_env: dict[str, str]) -> None:
    settings = load(RestSettings, base_env, jobs_port=0)
    await _exercise(lambda stop, cb: runner.run(settings, stop, on_ready=cb))
