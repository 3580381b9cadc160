"""Benchmark: catalog reads (sidebar, odds, event) req/s and p95 against a bare aiohttp hello-world in
the same run, and the cache hit rate.

    .venv/bin/python bench/catalog.py [--seconds 3] [--concurrency 16] [--leagues 110]

Starts embedded PostgreSQL and Redis (unless DATABASE_URL / REDIS_URL are set), migrates a fresh
database, fills it with two ingest ticks of the simulator (110 leagues), then runs restapi
(``python -m restapi``) and a hello-world aiohttp server as separate processes on loopback. For each
endpoint: a latency pass (one request at a time: p50/p95) and a throughput pass (``--concurrency``
at once: req/s). Prints a table; writes bench/results/catalog.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import psycopg2  # noqa: E402
import uvloop  # noqa: E402

from bench.common import percentile  # noqa: E402
from devtools.devservers import EmbeddedPostgres, EmbeddedRedis, free_port, wait_port  # noqa: E402
from ingest.config import IngestSettings  # noqa: E402
from ingest.daemon import OddsPipeline  # noqa: E402
from ingest.providers.simulator import Simulator  # noqa: E402
from shared import migrate  # noqa: E402
from shared.config import load  # noqa: E402
from shared.daemon import DaemonContext  # noqa: E402
from shared.db import create_pool  # noqa: E402
from shared.redis import create_client  # noqa: E402
from shared.tokens import KeyRing  # noqa: E402

HELLO = """
import uvloop
from aiohttp import web
async def hello(request):
    return web.json_response({"hello": "world"})
app = web.Application()
app.router.add_get("/", hello)
web.run_app(app, host="127.0.0.1", port={port}, access_log=None, print=None, loop=uvloop.new_event_loop())
"""


async def fill(db: str, redis_url: str, leagues: int) -> dict[str, str]:
    """Two simulator ticks through the real ingest pipeline; returns sample ids for the requests."""
    pg = await create_pool(db, 1, 4)
    redis = create_client(redis_url)
    settings = load(IngestSettings, {"DATABASE_URL": db, "REDIS_URL": redis_url})
    pipe = OddsPipeline(DaemonContext(pg, redis, 0), settings, provider=Simulator(seed=1, leagues=leagues))
    await pipe.poller.bootstrap()
    await pipe.poller.tick()
    await pipe.poller.tick()
    await pipe.store.refresh_sidebar()
    async with pg.acquire() as conn, conn.cursor() as cur:
        await cur.execute("SELECT id FROM events WHERE league = 'basketball_nba' AND status = 'upcoming' LIMIT 1")
        event = (await cur.fetchone())[0]
        await cur.execute("SELECT count(*) FROM sidebar")
        sidebar_leagues = (await cur.fetchone())[0]
    await redis.aclose()
    pg.close()
    await pg.wait_closed()
    return {"event": event, "sidebar_leagues": str(sidebar_leagues)}


async def latency(session: aiohttp.ClientSession, url: str, seconds: float) -> list[float]:
    times = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        async with session.get(url) as resp:
            await resp.read()
            assert resp.status == 200, (url, resp.status)
        times.append(time.perf_counter() - t0)
    return times


async def throughput(session: aiohttp.ClientSession, url: str, seconds: float, concurrency: int) -> float:
    done = 0
    end = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < end:
            async with session.get(url) as resp:
                await resp.read()
                assert resp.status == 200, (url, resp.status)
            done += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.perf_counter() - t0)


def cache_counts(base: str) -> tuple[float, float]:
    text = urllib.request.urlopen(f"{base}/metrics", timeout=5).read().decode()
    hits = sum(float(v) for v in re.findall(r'catalog_cache_requests_total{[^}]*result="hit"} ([0-9.e+]+)', text))
    misses = sum(float(v) for v in re.findall(r'catalog_cache_requests_total{[^}]*result="miss"} ([0-9.e+]+)', text))
    return hits, misses


async def measure(targets: list[tuple[str, str]], seconds: float, concurrency: int) -> list[dict[str, Any]]:
    rows = []
    conn = aiohttp.TCPConnector(limit=concurrency * 2)
    async with aiohttp.ClientSession(connector=conn) as session:
        for name, url in targets:
            await latency(session, url, 0.3)  # warm: connections, caches
            lat = await latency(session, url, seconds)
            rps = await throughput(session, url, seconds, concurrency)
            rows.append({"endpoint": name, "url": url, "p50_ms": percentile(lat, 0.5) * 1000,
                         "p95_ms": percentile(lat, 0.95) * 1000,
                         "req_per_s": rps, "samples": len(lat)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--leagues", type=int, default=110)
    args = parser.parse_args()
    data = ROOT / ".data" / f"bench-catalog-{os.getpid()}"
    servers: list[Any] = []
    procs: list[subprocess.Popen[bytes]] = []
    try:
        pg_url = os.environ.get("DATABASE_URL", "")
        if not pg_url:
            pg = EmbeddedPostgres(data / "pg", fast=True)
            pg_url = pg.start()
            servers.append(pg)
        redis_url = os.environ.get("REDIS_URL", "")
        if not redis_url:
            rs = EmbeddedRedis(data / "redis")
            redis_url = rs.start()
            servers.append(rs)
        admin = psycopg2.connect(pg_url)
        admin.autocommit = True
        name = f"wb_bench_{os.getpid()}"
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE {name}")
        db = pg_url.rsplit("/", 1)[0] + f"/{name}"
        asyncio.run(migrate.migrate(db))
        sample = uvloop.run(fill(db, redis_url, args.leagues))
        keys = data / "keys"
        KeyRing.load(keys, create=True)
        rest_port, hello_port = free_port(), free_port()
        env = {**os.environ, "DATABASE_URL": db, "REDIS_URL": redis_url, "RESTAPI_PORT": str(rest_port),
               "AUTH_KEYS_DIR": str(keys), "LOG_LEVEL": "WARNING", "PG_POOL_MAX": "10"}
        env["RESTAPI_MAX_CONNS_PER_IP"] = "0"  # the load generator is one address: no per-address cap
        procs.append(subprocess.Popen([sys.executable, "-m", "restapi"], cwd=ROOT, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        procs.append(subprocess.Popen([sys.executable, "-c", HELLO.replace("{port}", str(hello_port))],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_port("127.0.0.1", rest_port, 30)
        wait_port("127.0.0.1", hello_port, 30)
        rest = f"http://127.0.0.1:{rest_port}"
        targets = [("hello-world (baseline)", f"http://127.0.0.1:{hello_port}/"),
                   ("GET /shared/sidebar", f"{rest}/api/v1/shared/sidebar"),
                   ("GET /shared/sports", f"{rest}/api/v1/shared/sports"),
                   ("GET /betting/odds?league=basketball_nba", f"{rest}/api/v1/betting/odds?league=basketball_nba"),
                   ("GET /betting/odds?sport=soccer&limit=50", f"{rest}/api/v1/betting/odds?sport=soccer&limit=50"),
                   ("GET /betting/events/{id}", f"{rest}/api/v1/betting/events/{sample['event']}")]
        h0, m0 = cache_counts(rest)
        rows = uvloop.run(measure(targets, args.seconds, args.concurrency))
        h1, m1 = cache_counts(rest)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        for s in reversed(servers):
            s.stop()
        shutil.rmtree(data, ignore_errors=True)
    hit_rate = (h1 - h0) / max(1.0, (h1 - h0) + (m1 - m0))
    base = rows[0]
    print(f"\ncatalog bench: sidebar of {sample['sidebar_leagues']} leagues, {args.seconds:g}s per pass, "
          f"concurrency {args.concurrency}\n")
    print(f"{'endpoint':42} {'p50 ms':>7} {'p95 ms':>7} {'req/s':>8} {'vs hello':>9}")
    for r in rows:
        r["ratio_vs_hello"] = r["req_per_s"] / base["req_per_s"]
        print(f"{r['endpoint']:42} {r['p50_ms']:>7.2f} {r['p95_ms']:>7.2f} {r['req_per_s']:>8,.0f} "
              f"{r['ratio_vs_hello']:>9.2f}")
    print(f"\ncache hit rate: {hit_rate:.1%} ({h1 - h0:.0f} hits, {m1 - m0:.0f} misses)")
    out = ROOT / "bench" / "results" / "catalog.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"rows": rows, "cache_hit_rate": hit_rate,
                               "sidebar_leagues": int(sample["sidebar_leagues"]),
                               "concurrency": args.concurrency, "seconds": args.seconds}, indent=2))
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
