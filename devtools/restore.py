"""Point-in-time recovery into a scratch instance: ``barman recover --target-time``, then start and promote.

``python -m devtools.restore --to 2026-11-29T08:30:00+00:00 [--dest /srv/restored] [--port 5499]``
(settings as for ``python -m shared.backup``; ``./dev restore`` wraps it). It lives in devtools
because it starts a PostgreSQL the way the development servers do.

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
    try:
        server.start()
        wait_promoted(server, timeout)
    except BarmanError:
        server.stop()
        raise
    except (RuntimeError, TimeoutError):
        # Recovery can fail while pg_ctl is still starting the server (the same FATAL, earlier).
        server.stop()
        raise BarmanError(f"the restored server stopped during recovery: {_fatal(server.log_file)}") from None
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


def wait_promoted(server: EmbeddedPostgres, timeout: float) -> None:
    """Block until ``server`` has finished recovery and accepts writes; fail at once, with PostgreSQL's
    reason, when it stops instead (a target past the archived WAL ends recovery with a FATAL)."""
    deadline = time.monotonic() + timeout
    while True:
        if _accepts_writes(server.url):
            return
        if server.pid is None:
            raise BarmanError(f"the restored server stopped during recovery: {_fatal(server.log_file)}")
        if time.monotonic() > deadline:
            raise BarmanError(f"the restored server did not finish recovery in {timeout:g}s")
        time.sleep(0.1)


def _fatal(log: Path) -> str:
    """PostgreSQL's last FATAL line in ``log``, with what to do when the target is past the archived WAL."""
    lines = [ln for ln in log.read_text(errors="replace").splitlines() if "FATAL:" in ln] if log.exists() else []
    reason = lines[-1].split("FATAL:", 1)[1].strip() if lines else f"see {log}"
    if "recovery target was reached" in reason:
        reason += (" (the catalogue has no WAL up to that instant yet: wait BACKUP_ARCHIVE_TIMEOUT seconds or run "
                   "`python -m shared.backup switch-wal`, then restore into a new folder)")
    return reason


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.restore", description=__doc__)
    parser.add_argument("--to", required=True, type=datetime.fromisoformat,
                        help="ISO time with zone, e.g. 2026-11-29T08:00Z")
    parser.add_argument("--dest", type=Path, help="new folder for the restored cluster (default: restored-<time> "
                        "beside BACKUP_DIR)")
    parser.add_argument("--port", type=int, default=0, help="port of the restored server (0: a free one)")
    args = parser.parse_args()
    try:
        settings = load(BackupSettings)
    except ConfigError as exc:
        exit_on_config_error(exc)
    barman = Barman.from_settings(settings)
    try:
        if not barman.config.exists():  # the backup job wrote it; without it, DATABASE_URL names the server
            barman.write_config(settings)
        dest = args.dest or barman.home.parent / f"restored-{args.to.strftime('%Y%m%dT%H%M%S')}"
        server = restore_to(barman, args.to, dest, args.port or None)
    except (BarmanError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"restored to {args.to.isoformat()}: {server.url} (data in {server.data_dir}; "
          f"stop it with `pg_ctl stop -D {server.data_dir}`)")


if __name__ == "__main__":
    main()
