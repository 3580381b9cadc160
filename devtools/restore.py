"""Point-in-time recovery into a scratch instance: ``barman recover --target-time``, then start and promote.

``python -m devtools.restore --to 2026-11-29T08:30:00+00:00 --dest /srv/restored [--port 5499]``
(settings as for ``python -m shared.backup``). It lives in devtools because it starts a PostgreSQL
the way the development servers do.

The restored cluster never archives (``archive_mode=off``), so a drill cannot write into the
catalogue it was restored from.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import psycopg2

from devtools.devservers import PG_SYSTEM_USER, EmbeddedPostgres
from shared.backup.barman import Barman, BarmanError
from shared.backup.settings import BackupSettings
from shared.config import ConfigError, exit_on_config_error, load


def pick_backup(barman: Barman, target: datetime) -> str:
    """The newest finished backup that ended before ``target`` (Barman lists end times to the second)."""
    candidates = [b for b in barman.backups() if b.status == "DONE" and b.end_time is not None
                  and b.end_time + timedelta(seconds=1) <= target]
    if not candidates:
        raise BarmanError(f"no finished backup ends before {target.isoformat()}: nothing to recover from")
    return max(candidates, key=lambda b: b.end_time or target).backup_id


def restore_to(barman: Barman, target: datetime, dest: Path, port: int | None = None,
               timeout: float = 600) -> EmbeddedPostgres:
    """Recover the catalogue to ``target`` into ``dest`` and return the started, promoted instance."""
    if target.tzinfo is None:
        raise ValueError("the target time needs a time zone (e.g. 2026-11-29T08:00:00+00:00)")
    dest = dest.resolve()
    if dest.exists() and any(dest.iterdir()):
        raise BarmanError(f"{dest} is not empty: recover into a new folder")
    backup_id = pick_backup(barman, target)
    barman.run("recover", "--target-time", target.isoformat(), "--target-action", "promote",
               barman.server, backup_id, str(dest), timeout=timeout)
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", f"{PG_SYSTEM_USER}:", str(dest)], check=True)
    server = EmbeddedPostgres(dest, port, settings={"archive_mode": "off"})
    server.start()
    try:
        wait_promoted(server.url, timeout)
    except Exception:
        server.stop()
        raise
    return server


def _accepts_writes(url: str) -> bool:
    """True once the server at ``url`` answers and is out of recovery; False while it starts up."""
    try:
        conn = psycopg2.connect(url, connect_timeout=2)
    except psycopg2.OperationalError:
        return False  # still starting up
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_is_in_recovery()")
            row = cur.fetchone()
            return row is not None and not row[0]
    except psycopg2.OperationalError:
        return False
    finally:
        conn.close()


def wait_promoted(url: str, timeout: float) -> None:
    """Block until the server at ``url`` has finished recovery and accepts writes."""
    deadline = time.monotonic() + timeout
    while True:
        if _accepts_writes(url):
            return
        if time.monotonic() > deadline:
            raise BarmanError(f"the restored server did not finish recovery in {timeout:g}s")
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.restore", description=__doc__)
    parser.add_argument("--to", required=True, type=datetime.fromisoformat,
                        help="ISO time with zone, e.g. 2026-11-29T08:00Z")
    parser.add_argument("--dest", required=True, type=Path, help="new folder for the restored cluster")
    parser.add_argument("--port", type=int, default=0, help="port of the restored server (0: a free one)")
    args = parser.parse_args()
    try:
        settings = load(BackupSettings)
    except ConfigError as exc:
        exit_on_config_error(exc)
    barman = Barman.from_settings(settings)
    try:
        barman.write_config(settings)
        server = restore_to(barman, args.to, args.dest, args.port or None)
    except (BarmanError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"restored to {args.to.isoformat()}: {server.url} (data in {server.data_dir}; "
          f"stop it with `pg_ctl stop -D {server.data_dir}`)")


if __name__ == "__main__":
    main()
