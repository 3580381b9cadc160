"""Auth benchmark: login rate, ``auth/me`` rate and token verification cost, against a bare hello-world.

    .venv/bin/python bench/auth.py [--seconds 4] [--concurrency 16]

Starts embedded PostgreSQL and Redis (or uses DATABASE_URL / REDIS_URL), ``python -m restapi`` and a
bare aiohttp hello-world as separate processes on loopback, drives each for a few seconds from this
process, prints a table and writes ``bench/results/auth.json``. The machine is shared and noisy, so
the headline numbers are ratios to the hello-world measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import aiopg
import bcrypt
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import wait_ready  # noqa: E402
from devtools.devservers import EmbeddedPostgres, EmbeddedRedis, free_port  # noqa: E402
from shared import migrate  # noqa: E402
from shared.tokens import KeyRing, Verifier, access_claims  # noqa: E402

PASSWORD = "player-pass-123"
HELLO = """
from aiohttp import web
async def hello(request):
    return web.Response(text="hello")
app = web.Application()
app.router.add_get("/", hello)
web.run_app(app, host="127.0.0.1", port={port}, print=None, access_log=None)
"""


async def _seed(dsn: str) -> None:
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(12)).decode()
    async with aiopg.connect(dsn) as conn, conn.cursor() as cur:
        await cur.execute("INSERT INTO users (login, email, password_hash, role) "
                          "VALUES ('agent1', 'agent1@wagerbabe.test', %(h)s, 'agent')", {"h": hashed})
        await cur.execute("INSERT INTO users (login, email, password_hash, role, agent_id) SELECT 'player01', "
                          "'player01@wagerbabe.test', %(h)s, 'player', id FROM users WHERE login = 'agent1'",
                          {"h": hashed})


async def drive(method: str, url: str, seconds: float, concurrency: int, **kw: Any) -> dict[str, Any]:
    """Send requests from ``concurrency`` workers for ``seconds``; rate and latency percentiles."""
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    stop_at = time.perf_counter() + seconds
    conn = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=conn) as http:

        async def worker() -> None:
            while time.perf_counter() < stop_at:
                t0 = time.perf_counter()
                async with http.request(method, url, **kw) as resp:
                    await resp.read()
                    statuses[str(resp.status)] = statuses.get(str(resp.status), 0) + 1
                latencies.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
    lat = sorted(latencies)
    return {
        "requests": len(lat), "rps": round(len(lat) / elapsed, 1), "statuses": statuses,
        "p50_ms": round(lat[len(lat) // 2] * 1000, 2) if lat else None,
        "p95_ms": round(lat[int(len(lat) * 0.95)] * 1000, 2) if lat else None,
    }


def verify_cost(keys_dir: Path, n: int = 3000) -> dict[str, float]:
    """Microseconds per RS256 verification (a token seen for the first time), per repeat of a token
    the Verifier remembers, and per signature, in this process (median of 5 runs)."""
    ring = KeyRing.load(keys_dir)
    public = Verifier.from_ring(ring).public
    token = ring.sign(access_claims(1, "player", None, 3600, sid="s"))
    runs_v, runs_r, runs_s = [], [], []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(n):
            Verifier(public, cache_size=0)._verify(token, "access")  # the signature check every new token pays
        runs_v.append((time.perf_counter() - t0) / n * 1e6)
        remembering = Verifier(public)
        remembering.verify(token)
        t0 = time.perf_counter()
        for _ in range(n):
            remembering.verify(token)
        runs_r.append((time.perf_counter() - t0) / n * 1e6)
        t0 = time.perf_counter()
        for _ in range(n // 10):
            ring.sign(access_claims(1, "player", None, 3600))
        runs_s.append((time.perf_counter() - t0) / (n // 10) * 1e6)
    return {"verify_us": round(statistics.median(runs_v), 1), "repeat_us": round(statistics.median(runs_r), 1),
            "sign_us": round(statistics.median(runs_s), 1)}


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    servers: list[Any] = []
    procs: list[subprocess.Popen[bytes]] = []
    try:
        dsn, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
        if not dsn:
            pg = EmbeddedPostgres(tmp / "pg", fast=True)
            servers.append(pg)
            dsn = pg.start()
        if not redis_url:
            redis = EmbeddedRedis(tmp / "redis")
            servers.append(redis)
            redis_url = redis.start()
        await migrate.migrate(dsn)
        await _seed(dsn)
        keys_dir = tmp / "keys"
        KeyRing.load(keys_dir, create=True)

        api_port, hello_port = free_port(), free_port()
        env = {**os.environ, "DATABASE_URL": dsn, "REDIS_URL": redis_url, "AUTH_KEYS_DIR": str(keys_dir),
               "RESTAPI_PORT": str(api_port), "API_RATE_LIMIT": "100000000", "AUTH_LOGIN_LIMIT": "100000000",
               "LOG_LEVEL": "WARNING"}
        env["RESTAPI_MAX_CONNS_PER_IP"] = "0"  # the load generator is one address: no per-address cap
        procs.append(subprocess.Popen([sys.executable, "-m", "restapi"], cwd=ROOT, env=env,
                                      stderr=subprocess.DEVNULL))
        procs.append(subprocess.Popen([sys.executable, "-c", HELLO.format(port=hello_port)]))
        api, hello = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{hello_port}"
        await wait_ready(f"{api}/readyz", [procs[0]])
        await wait_ready(f"{hello}/", [procs[1]])

        async with aiohttp.ClientSession() as http:
            async with http.post(f"{api}/api/v1/auth/login", json={"login": "player01", "password": PASSWORD}) as r:
                token = (await r.json())["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        login_body = orjson.dumps({"login": "player01", "password": PASSWORD})
        s, c = args.seconds, args.concurrency
        results = {
            "hello": await drive("GET", f"{hello}/", s, c),
            "healthz": await drive("GET", f"{api}/healthz", s, c),
            "me": await drive("GET", f"{api}/api/v1/auth/me", s, c, headers=auth),
            "login": await drive("POST", f"{api}/api/v1/auth/login", s, 4, data=login_body,
                                 headers={"Content-Type": "application/json"}),
        }
        return {"results": results, "crypto": verify_cost(keys_dir)}
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=15)
        for server in reversed(servers):
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="seconds per measured phase")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent client connections")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-auth-", dir=ROOT / ".data" if (ROOT / ".data").is_dir() else None))
    try:
        out = asyncio.run(run(args, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    r, crypto = out["results"], out["crypto"]
    hello_rps = r["hello"]["rps"]
    print(f"{'endpoint':<22}{'req/s':>10}{'x hello':>10}{'p50 ms':>10}{'p95 ms':>10}  statuses")
    for name, label in (("hello", "bare hello-world"), ("healthz", "restapi /healthz"),
                        ("me", "GET auth/me (cached)"), ("login", "POST auth/login")):
        x = r[name]
        print(f"{label:<22}{x['rps']:>10}{x['rps'] / hello_rps:>10.3f}{x['p50_ms']:>10}{x['p95_ms']:>10}  "
              f"{x['statuses']}")
    per_req_ms = 1000 / r["me"]["rps"] - 1000 / r["healthz"]["rps"] if r["me"]["rps"] else None
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"RS256 verify: {crypto['verify_us']} us for a new token, {crypto['repeat_us']} us for a remembered one; "
          f"sign: {crypto['sign_us']} us/token (this process)")
    if per_req_ms is not None:
        print(f"auth/me vs /healthz on the same server: +{per_req_ms:.3f} ms of server time per request "
              "(verification + denylist/rate-limit round trip + cache read)")
    doc = {"bench": "auth", "ts": time.time(), "machine": platform.machine(), "cpus": os.cpu_count(),
           "loadavg_1m_at_end": round(os.getloadavg()[0], 2),
           "seconds": args.seconds, "concurrency": args.concurrency, **out,
           "ratios_to_hello": {k: round(v["rps"] / hello_rps, 4) for k, v in r.items()},
           "me_extra_ms_per_request_vs_healthz": round(per_req_ms, 3) if per_req_ms is not None else None}
    (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
    (ROOT / "bench" / "results" / "auth.json").write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
