"""PgBouncer in transaction mode: 10,000 clients on at most 100 server connections, and its latency cost.

Runs ``pgbench`` (from the PostgreSQL wheel) against a fresh embedded PostgreSQL, once direct and
once through PgBouncer with the same clients (tpcb-like read/write transactions), then 10,000
clients through PgBouncer while the admin console is polled for server connections. Run from the
project root: ``python bench/pgbouncer.py``; writes bench/results/pgbouncer.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.devservers import EmbeddedPostgres, wheel_pg_bin  # noqa: E402
from devtools.pgbouncer import PgBouncer  # noqa: E402


def pgbench(url: str, *args: str, timeout: float = 600) -> dict[str, float]:
    """Run pgbench; its tps, average latency (ms) and failed transactions."""
    proc = subprocess.run([str(wheel_pg_bin() / "pgbench"), *args, "-M", "simple", "-n", url], capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"pgbench failed: {proc.stderr[-2000:]}")
    out = proc.stdout
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = float(re.search(r"latency average = ([\d.]+) ms", out).group(1))  # type: ignore[union-attr]
    done = int(re.search(r"number of transactions actually processed: (\d+)", out).group(1))  # type: ignore[union-attr]
    failed = re.search(r"number of failed transactions: (\d+)", out)
    return {"tps": tps, "latency_ms": lat, "transactions": done, "failed": int(failed.group(1)) if failed else 0}


class PoolWatch(threading.Thread):
    """Polls PgBouncer's admin console: the most clients and server connections seen at once."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.stop = threading.Event()
        self.max_clients = 0
        self.max_servers = 0

    def run(self) -> None:
        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="pgbouncer")
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                while not self.stop.wait(0.2):
                    cur.execute("SHOW POOLS")
                    names = [d[0] for d in cur.description or []]
                    for row in cur.fetchall():
                        pool = dict(zip(names, row, strict=True))
                        if pool["database"] != "postgres":
                            continue
                        clients = int(pool["cl_active"]) + int(pool["cl_waiting"])
                        servers = sum(int(pool[k]) for k in ("sv_active", "sv_idle", "sv_used", "sv_tested",
                                                             "sv_login"))
                        self.max_clients = max(self.max_clients, clients)
                        self.max_servers = max(self.max_servers, servers)
        finally:
            conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=10_000, help="clients of the many-clients run")
    parser.add_argument("--compare-clients", type=int, default=20, help="clients of the direct/pooled comparison")
    parser.add_argument("--rounds", type=int, default=3, help="alternating direct/pooled rounds (median kept)")
    parser.add_argument("--seconds", type=int, default=15, help="length of each pgbench run")
    parser.add_argument("--pool", type=int, default=100, help="PgBouncer server connections")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "pgbouncer.json")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="wb-pgbouncer-", dir=ROOT / ".data"))
    pg = EmbeddedPostgres(root / "pg", settings={"max_connections": "300"})
    bouncer = PgBouncer(root / "bouncer", "", pool_size=args.pool, max_client_conn=args.clients + 100)
    results: dict[str, object] = {"benchmark": "pgbouncer", "cpus": os.cpu_count(), "pool": args.pool}
    try:
        direct = pg.start()
        bouncer = PgBouncer(root / "bouncer", direct, pool_size=args.pool, max_client_conn=args.clients + 100)
        bouncer.start()
        pooled = bouncer.url_for(direct)
        subprocess.run([str(wheel_pg_bin() / "pgbench"), "-i", "-s", "20", "-q", direct], check=True,
                       capture_output=True)
        common = ["-c", str(args.compare_clients), "-j", "2", "-T", str(args.seconds)]
        # Alternate direct and pooled runs so load from elsewhere on the machine hits both alike.
        runs: dict[str, list[dict[str, float]]] = {"direct": [], "pooled": []}
        for _ in range(args.rounds):
            runs["direct"].append(pgbench(direct, *common))
            runs["pooled"].append(pgbench(pooled, *common))
        for name, got in runs.items():
            results[name] = sorted(got, key=lambda r: r["latency_ms"])[len(got) // 2]
            results[f"{name}_runs"] = got
        print(f"{args.compare_clients} clients, tpcb-like, {args.seconds}s: "
              f"direct {results['direct']['tps']:.0f} tps {results['direct']['latency_ms']:.2f} ms | "  # type: ignore[index]
              f"pgbouncer {results['pooled']['tps']:.0f} tps {results['pooled']['latency_ms']:.2f} ms", flush=True)
        watch = PoolWatch(bouncer.port)
        watch.start()
        many = pgbench(pooled, "-c", str(args.clients), "-j", "4", "-T", str(args.seconds), "-S",
                       timeout=600 + args.seconds)
        time.sleep(0.5)
        watch.stop.set()
        watch.join(5)
        results["many"] = {**many, "clients": args.clients, "max_clients_seen": watch.max_clients,
                           "max_server_connections_seen": watch.max_servers}
        print(f"{args.clients} clients, select-only, {args.seconds}s through pgbouncer: {many['tps']:.0f} tps, "
              f"{many['latency_ms']:.1f} ms average, failed {many['failed']}, at most {watch.max_servers} server "
              f"connections for {watch.max_clients} clients", flush=True)
        d, p = results["direct"], results["pooled"]
        results["latency_ratio_pooled_to_direct"] = round(p["latency_ms"] / d["latency_ms"], 3)  # type: ignore[index]
    finally:
        bouncer.stop()
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
