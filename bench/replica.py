"""Replica lag under the bet benchmark: a primary and a streaming standby, bench/bets.py against the primary.

The standby's lag (seconds since the last replayed commit while a backlog exists, and WAL bytes
received but not replayed) is sampled every 100 ms for the whole run. Run from the project root:
``python bench/replica.py [--seconds 8] [--concurrency 16]``; writes bench/results/replica.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.devservers import EmbeddedPostgres  # noqa: E402
from devtools.standby import make_standby  # noqa: E402

LAG_SQL = """
SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE COALESCE(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END,
       COALESCE(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0)
"""
SENT_SQL = "SELECT COALESCE(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), 0) FROM pg_stat_replication"


class Sampler(threading.Thread):
    """Samples the standby's own lag and the primary's view of it (bytes not yet replayed) every 100 ms."""

    def __init__(self, standby_url: str, primary_url: str) -> None:
        super().__init__(daemon=True)
        self.standby_url, self.primary_url = standby_url, primary_url
        self.stop = threading.Event()
        self.seconds: list[float] = []
        self.bytes: list[int] = []

    def run(self) -> None:
        standby, primary = psycopg2.connect(self.standby_url), psycopg2.connect(self.primary_url)
        standby.autocommit = primary.autocommit = True
        try:
            with standby.cursor() as s, primary.cursor() as p:
                while not self.stop.wait(0.1):
                    s.execute(LAG_SQL)
                    row = s.fetchone()
                    p.execute(SENT_SQL)
                    sent = p.fetchone()
                    if row and sent:
                        self.seconds.append(float(row[0]))
                        self.bytes.append(max(int(row[1]), int(sent[0])))
        finally:
            standby.close()
            primary.close()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", default="8")
    parser.add_argument("--concurrency", default="16")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "replica.json")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="wb-replica-", dir=ROOT / ".data"))
    primary = EmbeddedPostgres(root / "primary")
    standby: EmbeddedPostgres | None = None
    try:
        primary.start()
        standby = make_standby(primary.url, root / "standby")
        sampler = Sampler(standby.url, primary.url)
        sampler.start()
        env = {**os.environ, "DATABASE_URL": primary.url}
        # bets.py writes its own bench/results/bets.json; this bench keeps only the lag figures.
        proc = subprocess.run([sys.executable, "bench/bets.py", "--seconds", args.seconds, "--concurrency",
                               args.concurrency], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
        sampler.stop.set()
        sampler.join(5)
        if proc.returncode != 0:
            raise RuntimeError(f"bench/bets.py failed: {proc.stderr[-2000:]}")
        print(proc.stdout[-1500:])
        result = {"benchmark": "replica", "cpus": os.cpu_count(), "samples": len(sampler.seconds),
                  "lag_seconds_p50": pct(sampler.seconds, 0.5), "lag_seconds_p99": pct(sampler.seconds, 0.99),
                  "lag_seconds_max": max(sampler.seconds, default=0.0),
                  "lag_bytes_p50": pct([float(b) for b in sampler.bytes], 0.5),
                  "lag_bytes_p99": pct([float(b) for b in sampler.bytes], 0.99),
                  "lag_bytes_max": max(sampler.bytes, default=0)}
        print(f"replica lag under bench/bets.py ({len(sampler.seconds)} samples): "
              f"p50 {result['lag_seconds_p50']:.3f}s p99 {result['lag_seconds_p99']:.3f}s "
              f"max {result['lag_seconds_max']:.3f}s; bytes p99 {result['lag_bytes_p99']:.0f} "
              f"max {result['lag_bytes_max']}")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    finally:
        if standby is not None:
            standby.stop()
        primary.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
