"""``python -m ingest`` end to end: the simulator by default, odds into Redis and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import psycopg2
import pytest
import redis as redis_sync

from ingest import daemon
from ingest.config import IngestSettings
from shared.config import ConfigError, load
from tests.helpers import scaled, wait_for

ROOT = Path(__file__).resolve().parents[2]


def _count(url: str, sql: str) -> int:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return int(cur.fetchone()[0])
    finally:
        conn.close()


async def test_python_m_ingest_runs_the_simulator_into_redis_and_postgres(base_env: dict[str, str],
                                                                          tmp_path: Path) -> None:
    env = {**os.environ, **base_env, "INGEST_PORT": "0", "INGEST_SIM_LEAGUES": "8", "INGEST_TICK": "0.2",
           "INGEST_ARCHIVE_DIR": str(tmp_path), "INGEST_SIDEBAR_DEBOUNCE": "0.2"}
    proc = subprocess.Popen([sys.executable, "-m", "ingest"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    r = redis_sync.Redis.from_url(base_env["REDIS_URL"])
    try:
        def flowing() -> bool:
            return (r.hlen("snap:basketball_nba") > 1 and r.xlen("odds:basketball_nba") >= 2
                    and _count(base_env["DATABASE_URL"], "SELECT count(*) FROM odds") > 0
                    and _count(base_env["DATABASE_URL"], "SELECT count(*) FROM sidebar") > 0)

        await wait_for(flowing, timeout=30, what="odds flowing")
        assert r.hget("snap:basketball_nba", "_epoch")
    finally:
        r.close()
        proc.send_signal(signal.SIGTERM)
        _out, err = await asyncio.to_thread(proc.communicate, timeout=scaled(20))
    assert proc.returncode == 0, err.decode()[-2000:]
    assert b"Traceback" not in err


def test_inconsistent_provider_settings_fail_at_start_up(base_env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="INGEST_REPLAY_DIR"):
        daemon.check_settings(load(IngestSettings, {**base_env, "INGEST_PROVIDER": "replay"}))
    with pytest.raises(ConfigError, match="INGEST_ODDSAPI_KEY"):
        daemon.check_settings(load(IngestSettings, {**base_env, "INGEST_PROVIDER": "theoddsapi"}))
    with pytest.raises(ConfigError, match="INGEST_MARKETS"):
        daemon.check_settings(load(IngestSettings, {**base_env, "INGEST_MARKETS": "h2h,corners"}))


async def test_ingest_waits_for_postgres_at_start_up_instead_of_dying(base_env: dict[str, str],
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    env = {**base_env, "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nothing"}  # nothing listens on port 1
    settings = load(IngestSettings, env, port=0)
    stop = asyncio.Event()
    caplog.set_level(logging.WARNING, logger="ingest.daemon")
    task = asyncio.create_task(daemon.run(settings, stop, loops=[]))
    await wait_for(lambda: any("cannot start" in r.getMessage() for r in caplog.records), what="retry log")
    assert not task.done()
    stop.set()
    await asyncio.wait_for(task, scaled(10))


async def test_ingest_metrics_show_calls_saved_changes_and_entries(base_env: dict[str, str], tmp_path: Path) -> None:
    env = {**base_env, "INGEST_SIM_LEAGUES": "8", "INGEST_TICK": "0.05", "INGEST_ARCHIVE_DIR": str(tmp_path)}
    settings = load(IngestSettings, env, port=0)
    stop = asyncio.Event()
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(daemon.run(settings, stop, on_ready=lambda ctx: ready.set_result(ctx.side_port)))
    port = await asyncio.wait_for(ready, scaled(10))

    async def metrics() -> str:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as resp:
            return await resp.text()

    def value(text: str, name: str) -> float:
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))

    async def counted() -> bool:
        text = await metrics()
        return all(value(text, n) > 0 for n in ("ingest_stream_entries_total", "ingest_changes_total",
                                                "ingest_calls_saved_total"))

    try:
        await wait_for(counted, timeout=20, what="ingest metrics")
    finally:
        stop.set()
        await asyncio.wait_for(task, scaled(20))
