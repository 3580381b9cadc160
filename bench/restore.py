"""Restore time (RTO) of the demo book and of a 1,000,000-bet book, through Barman.

For each book: a PostgreSQL archiving to a fresh Barman catalogue, a full base backup, one more
write, then T; ``restore_to(T)`` into a new folder is timed until the restored server is promoted
and answers. Also times the base backup. Run from the project root:
``python bench/restore.py [--bets 1000000]``; writes bench/results/restore.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.devservers import EmbeddedPostgres  # noqa: E402
from devtools.restore import restore_to  # noqa: E402
from shared import migrate  # noqa: E402
from shared.backup.barman import Barman  # noqa: E402
from shared.backup.settings import BackupSettings  # noqa: E402
from shared.config import load  # noqa: E402


def bulk_sql(n: int) -> list[str]:
    """Statements that add ``n`` settled straight bets, their legs and one ledger entry each.

    Bulk rows for size only: their ledger entries do not form a valid hash chain (the restore does not look).
    """
    return [
        f"""
INSERT INTO bets (user_id, agent_id, bet_type, stake_cents, potential_payout_cents, status, payout_cents, sports,
                  placed_at, settled_at)
SELECT p.id, p.agent_id, 'straight', 1000 + g % 5000, 2000 + g % 5000, 'lost', 0,
       ARRAY['basketball', 'basketball_nba'], now() - make_interval(secs => g), now()
  FROM generate_series(1, {n}) g
  JOIN (SELECT id, agent_id, row_number() OVER (ORDER BY id) - 1 AS k,
               count(*) OVER () AS c FROM users WHERE role = 'player') p ON p.k = g % p.c""",
        """
INSERT INTO bet_legs (bet_id, leg_no, event_id, sport, league, home_team, away_team, commence_time, market,
                      outcome, book, price, price_seen, result, graded_at)
SELECT b.id, 1, 'bulk' || (b.id % 1000), 'basketball', 'basketball_nba', 'Boston Celtics', 'Los Angeles Lakers',
       b.placed_at, 'h2h', 'Boston Celtics', 'draftkings', -110, -110, 'lost', now()
  FROM bets b WHERE NOT EXISTS (SELECT 1 FROM bet_legs l WHERE l.bet_id = b.id)""",
        """
INSERT INTO ledger_entries (account_id, seq, amount_cents, risk_cents, balance_after, risk_after, kind, ref_type,
                            ref_id, created_at, prev_hash, hash)
SELECT b.user_id, 1000000 + row_number() OVER (PARTITION BY b.user_id ORDER BY b.id), -b.stake_cents, 0, 0, 0,
       'bet_loss', 'bet', b.id::text, b.placed_at, repeat('0', 64), md5(b.id::text) || md5(b.id::text)
  FROM bets b WHERE b.sports = ARRAY['basketball', 'basketball_nba'] AND b.status = 'lost'
   AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.ref_type = 'bet' AND e.ref_id = b.id::text)""",
    ]


def execute(url: str, sql: str) -> list[tuple[object, ...]]:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall()) if cur.description else []
    finally:
        conn.close()


def one_book(root: Path, bets: int) -> dict[str, object]:
    """Seed the demo book (plus ``bets`` bulk bets), back it up, restore to T; the figures."""
    barman = Barman(root / "backup", "wagerbabe")
    server = EmbeddedPostgres(root / "src", settings=barman.archive_settings(60))
    server.start()
    restored: EmbeddedPostgres | None = None
    try:
        barman.write_config(load(BackupSettings, {"DATABASE_URL": server.url}))
        asyncio.run(migrate.migrate(server.url))
        subprocess.run([sys.executable, "-m", "restapi.seed", "--database-url", server.url], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        t0 = time.perf_counter()
        for statement in bulk_sql(bets) if bets else []:
            execute(server.url, statement)
        load_s = time.perf_counter() - t0
        (count,), = execute(server.url, "SELECT count(*) FROM bets")
        (size,), = execute(server.url, "SELECT pg_database_size(current_database())")
        barman.cron()
        barman.switch_wal()
        t0 = time.perf_counter()
        barman.backup()
        backup_s = time.perf_counter() - t0
        time.sleep(1.1)  # Barman lists backup end times to the second: T must fall after it
        execute(server.url, "CREATE TABLE after_backup (x int); INSERT INTO after_backup VALUES (1)")
        (target,), = execute(server.url, "SELECT clock_timestamp()")
        execute(server.url, "INSERT INTO after_backup VALUES (2)")
        barman.switch_wal()
        t0 = time.perf_counter()
        restored = restore_to(barman, target, root / "restored")  # type: ignore[arg-type]
        restore_s = time.perf_counter() - t0
        (back,), = execute(restored.url, "SELECT count(*) FROM bets")
        (rows,), = execute(restored.url, "SELECT count(*) FROM after_backup")
        assert back == count and rows == 1, (back, count, rows)
        return {"bets": int(count), "database_bytes": int(size), "bulk_load_s": round(load_s, 2),
                "backup_s": round(backup_s, 2), "restore_s": round(restore_s, 2)}  # type: ignore[arg-type]
    finally:
        if restored is not None:
            restored.stop()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bets", type=int, default=1_000_000, help="bulk bets of the large book")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "restore.json")
    args = parser.parse_args()
    results = {}
    for name, bets in (("demo", 0), ("bulk", args.bets)):
        root = Path(tempfile.mkdtemp(prefix=f"wb-restore-{name}-", dir=ROOT / ".data"))
        try:
            results[name] = one_book(root, bets)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        print(f"{name:5} bets={results[name]['bets']:>9} db={int(results[name]['database_bytes']) / 2**20:8.1f} MiB "
              f"backup={results[name]['backup_s']:7.2f}s restore(RTO)={results[name]['restore_s']:7.2f}s", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "restore", "cpus": os.cpu_count(), **results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
