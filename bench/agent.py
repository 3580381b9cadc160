"""Agent hub benchmark: dashboard and customer-list p95, CSV export rows/s, on a generated big book.

    .venv/bin/python bench/agent.py [--players 5000] [--bets 1000000] [--requests 200] [--seconds 60]

Starts embedded PostgreSQL and Redis (or uses DATABASE_URL / REDIS_URL: a throwaway database is
created on that server), generates a book of ``--players`` players under a master agent and four
sub-agents with ``--bets`` graded bets (two ledger rows each: ``bet_risk`` then win/loss, spread over
twelve weeks; hashes are placeholders, so this book is not chain-verifiable), and serves restapi on
loopback. Each endpoint's latency is compared with a plain ``SELECT count(*)`` on the same table in
the same run, because this 2-core machine is shared and noisy. Writes bench/results/agent.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import aiopg
import orjson
import psycopg2
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import percentile  # noqa: E402
from devtools.devservers import EmbeddedPostgres, EmbeddedRedis  # noqa: E402
from restapi.app import create_app  # noqa: E402
from restapi.config import RestSettings  # noqa: E402
from shared import migrate  # noqa: E402
from shared.config import load  # noqa: E402
from shared.tokens import KeyRing, access_claims  # noqa: E402

GEN_USERS = """
INSERT INTO users (id, login, role, agent_id, display_name) VALUES (1, 'admin', 'admin', NULL, 'Admin'),
  (2, 'master', 'agent', NULL, 'Master');
INSERT INTO users (id, login, role, agent_id, display_name)
  SELECT 2 + g, 'sub' || g, 'agent', 2, 'Sub ' || g FROM generate_series(1, 4) g;
INSERT INTO users (id, login, email, role, agent_id, display_name, phone, credit_limit_cents, last_active_at)
  SELECT 100 + g, 'player' || g, 'player' || g || '@bench.test', 'player', 2 + (g %% 5),
         'Player ' || g, '+1 555 ' || lpad(g::text, 5, '0'), 100000 + (g %% 7) * 50000,
         now() - (g %% 30) * interval '1 day'
    FROM generate_series(1, %(players)s) g;
SELECT setval('users_id_seq', 100 + %(players)s);
"""
# Bet b of player p: risk entry at seq 2k-1, result at seq 2k, both at the bet's time.
GEN_BETS = """
INSERT INTO ledger_entries (account_id, seq, amount_cents, risk_cents, balance_after, risk_after, kind,
                            ref_type, ref_id, meta, created_at, prev_hash, hash)
SELECT 101 + (b %% %(players)s), 2 * (b / %(players)s) + r.n,
       CASE WHEN r.n = 1 THEN 0 WHEN b %% 2 = 0 THEN 900 ELSE -1000 END,
       CASE WHEN r.n = 1 THEN 1000 ELSE -1000 END, 0, 0,
       CASE WHEN r.n = 1 THEN 'bet_risk' WHEN b %% 2 = 0 THEN 'bet_win' ELSE 'bet_loss' END,
       'bet', b::text,
       jsonb_build_object('sport', (ARRAY['basketball_nba','americanfootball_nfl','soccer_epl'])[1 + b %% 3],
                          'event', 'ev' || (b %% 200),
                          'bet_type', CASE WHEN b %% 5 = 0 THEN 'parlay' ELSE 'straight' END),
       now() - (b::float / %(bets)s) * interval '84 days' + r.n * interval '2 hours',
       repeat('0', 64), md5(b::text || r.n)
  FROM generate_series(0, %(bets)s - 1) b CROSS JOIN (VALUES (1), (2)) r(n)
"""
FIX_ACCOUNTS = """
INSERT INTO ledger_daily (account_id, day, bets, handle_cents, winloss_cents)
SELECT account_id, (created_at AT TIME ZONE 'UTC')::date, count(*) FILTER (WHERE kind = 'bet_risk'),
       coalesce(sum(risk_cents) FILTER (WHERE kind = 'bet_risk'), 0),
       coalesce(sum(amount_cents) FILTER (WHERE kind IN ('bet_win', 'bet_loss')), 0)
  FROM ledger_entries GROUP BY 1, 2;
UPDATE users u SET balance_cents = t.bal, ledger_seq = t.seq, last_bet_at = t.last_bet
  FROM (SELECT account_id, sum(amount_cents) AS bal, max(seq) AS seq,
               max(created_at) FILTER (WHERE kind = 'bet_risk') AS last_bet
          FROM ledger_entries GROUP BY account_id) t
 WHERE u.id = t.account_id;
ANALYZE;
"""


async def timed(n: int, budget: float, call: Any) -> list[float]:
    """Latencies of up to ``n`` sequential calls, stopping after ``budget`` seconds (at least 5 calls)."""
    deadline = time.monotonic() + budget
    out: list[float] = []
    for _ in range(n):
        if time.monotonic() > deadline and len(out) >= 5:
            break
        t0 = time.perf_counter()
        await call()
        out.append(time.perf_counter() - t0)
    return out


async def run(args: argparse.Namespace, dsn: str, redis_url: str) -> dict[str, Any]:
    t0 = time.monotonic()
    await migrate.migrate(dsn)
    async with aiopg.connect(dsn, timeout=600) as conn, conn.cursor() as cur:
        await cur.execute(GEN_USERS, {"players": args.players})
        await cur.execute(GEN_BETS, {"players": args.players, "bets": args.bets})
        await cur.execute(FIX_ACCOUNTS)
    generate_s = time.monotonic() - t0
    print(f"generated {args.players} players, {args.bets} bets ({2 * args.bets} ledger rows) in {generate_s:.1f}s")

    keys = Path(tempfile.mkdtemp(prefix="wb-bench-keys-"))
    ring = KeyRing.load(keys, create=True)
    try:
        return await _measure(args, dsn, redis_url, keys, ring, generate_s)
    finally:
        shutil.rmtree(keys, ignore_errors=True)


async def _measure(args: argparse.Namespace, dsn: str, redis_url: str, keys: Path, ring: KeyRing,
                   generate_s: float) -> dict[str, Any]:
    # The API limit (100 a minute per user by default) would refuse the measurement loops.
    env = {"DATABASE_URL": dsn, "REDIS_URL": redis_url, "AUTH_KEYS_DIR": str(keys), "LOG_LEVEL": "WARNING",
           "API_RATE_LIMIT": "100000000"}
    results: dict[str, Any] = {"players": args.players, "bets": args.bets, "ledger_rows": 2 * args.bets,
                               "generate_s": round(generate_s, 1)}
    for ttl in (0.0, 10.0):
        settings = load(RestSettings, env, port=0, agent_dashboard_ttl=ttl)
        runner = web.AppRunner(create_app(settings), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        base = f"http://127.0.0.1:{port}"
        token = ring.sign(access_claims(2, "agent", None, ttl=3600))
        headers = {"Authorization": f"Bearer {token}"}
        deadline = args.seconds / 7  # seconds per measurement
        try:
            async with aiohttp.ClientSession(headers=headers) as http, aiopg.connect(dsn) as conn, \
                    conn.cursor() as cur:
                async def get(path: str, params: dict[str, str] | None = None) -> bytes:
                    async with http.get(base + path, params=params) as resp:
                        body = await resp.read()
                        if resp.status != 200:
                            raise RuntimeError(f"{path}: {resp.status} {body[:200]!r}")
                        return body

                async def count(table: str) -> None:
                    await cur.execute(f"SELECT count(*) FROM {table}")  # fixed names: bench only
                    await cur.fetchone()

                label = "dashboard_cached" if ttl else "dashboard_uncached"
                results[label] = await timed(args.requests, deadline, lambda: get("/api/v1/agent/dashboard"))
                if ttl:
                    continue
                results["baseline_count_ledger"] = await timed(args.requests, deadline, lambda: count("ledger_entries"))
                results["baseline_count_users"] = await timed(args.requests, deadline, lambda: count("users"))
                results["list_login"] = await timed(args.requests, deadline, lambda: get("/api/v1/agent/clients"))
                results["list_balance_desc"] = await timed(
                    args.requests, deadline,
                    lambda: get("/api/v1/agent/clients", {"sort": "balance", "order": "desc", "limit": "50"}))
                results["list_search"] = await timed(args.requests, deadline,
                                                     lambda: get("/api/v1/agent/clients", {"q": "player12"}))
                t1 = time.perf_counter()
                body = await get("/api/v1/agent/reports/customers", {"format": "csv"})
                export_s = time.perf_counter() - t1
                rows = body.count(b"\r\n") - 1
                results["csv_export"] = {"rows": rows, "seconds": round(export_s, 3),
                                         "rows_per_s": round(rows / export_s)}
        finally:
            await runner.cleanup()
    return results


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    """p50/p95 per measurement and ratios to the count(*) baselines."""
    summary: dict[str, Any] = {k: v for k, v in results.items() if not isinstance(v, list)}
    for name, values in results.items():
        if isinstance(values, list) and values:
            summary[name] = {"n": len(values), "p50_ms": round(percentile(values, 0.50) * 1000, 2),
                             "p95_ms": round(percentile(values, 0.95) * 1000, 2),
                             "mean_ms": round(statistics.fmean(values) * 1000, 2)}
    base_ledger = summary["baseline_count_ledger"]["p95_ms"]
    base_users = summary["baseline_count_users"]["p95_ms"]
    for name, base in (("dashboard_uncached", base_ledger), ("dashboard_cached", base_ledger),
                       ("list_login", base_users), ("list_balance_desc", base_users), ("list_search", base_users)):
        if name in summary:
            summary[name]["ratio_to_count"] = round(summary[name]["p95_ms"] / base, 3)
    export = summary["csv_export"]
    export["ratio_to_count_ledger"] = round(export["seconds"] * 1000 / base_ledger, 3)
    return summary


def print_table(summary: dict[str, Any]) -> None:
    print(f"\n{'measurement':<24}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'p95 / count(*)':>16}")
    for name, row in summary.items():
        if isinstance(row, dict) and "p95_ms" in row:
            ratio = row.get("ratio_to_count", "")
            print(f"{name:<24}{row['n']:>6}{row['p50_ms']:>10}{row['p95_ms']:>10}{ratio!s:>16}")
    e = summary["csv_export"]
    print(f"\ncustomer CSV export: {e['rows']} rows in {e['seconds']} s = {e['rows_per_s']} rows/s "
          f"({e['ratio_to_count_ledger']}x one count(*) over the ledger)")
    print("targets: dashboard p95 < 50 ms, list p95 < 20 ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--players", type=int, default=5000)
    parser.add_argument("--bets", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60, help="time budget for the measurements")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="wb-bench-agent-", dir=ROOT / ".data" if (ROOT / ".data").exists() else None))
    pg = redis_srv = None
    server_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    try:
        if not server_url:
            pg = EmbeddedPostgres(data / "pg", fast=True)
            server_url = pg.start()
        if not redis_url:
            redis_srv = EmbeddedRedis(data / "redis")
            redis_url = redis_srv.start()
        name = f"wb_bench_{uuid.uuid4().hex[:8]}"
        admin = psycopg2.connect(server_url)
        admin.autocommit = True
        with admin.cursor() as c:
            c.execute(f"CREATE DATABASE {name}")
        dsn = server_url.rsplit("/", 1)[0] + "/" + name
        try:
            summary = summarise(asyncio.run(run(args, dsn, redis_url)))
        finally:
            with admin.cursor() as c:
                c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            admin.close()
        print_table(summary)
        out = ROOT / "bench" / "results" / "agent.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
        print(f"\nwrote {out.relative_to(ROOT)}")
    finally:
        if redis_srv:
            redis_srv.stop()
        if pg:
            pg.stop()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
