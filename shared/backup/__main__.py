"""``python -m shared.backup {run,backup,check,list,switch-wal,restore}``: Barman glue (see docs/operations.md)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from shared import logging as jlog
from shared.backup import job
from shared.backup.barman import Barman, BarmanError
from shared.backup.restore import restore_to
from shared.backup.settings import BackupSettings
from shared.config import ConfigError, exit_on_config_error, load
from shared.service import run_daemon


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m shared.backup", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="the backup job: WAL intake, scheduled backups, metrics on BACKUP_PORT")
    b = sub.add_parser("backup", help="take a base backup now")
    b.add_argument("--incremental", action="store_true", help="block-level incremental on the newest backup")
    sub.add_parser("check", help="barman check (exit 1 when a check fails)")
    sub.add_parser("list", help="list the backups")
    sub.add_parser("switch-wal", help="close the current WAL segment and wait until it is archived")
    r = sub.add_parser("restore", help="recover to an instant into a new folder and start it there")
    r.add_argument("--to", required=True, type=datetime.fromisoformat,
                   help="ISO time with zone, e.g. 2026-11-29T08:00Z")
    r.add_argument("--dest", type=Path, help="new folder for the restored cluster (default: restored-<time> "
                   "beside BACKUP_DIR)")
    r.add_argument("--port", type=int, default=0, help="port of the restored server (0: a free one)")
    args = parser.parse_args()
    try:
        settings = load(BackupSettings)
    except ConfigError as exc:
        exit_on_config_error(exc)
    jlog.configure("backup", settings.log_level)
    barman = Barman.from_settings(settings)
    try:
        if args.command == "run":
            run_daemon(lambda stop: job.run(settings, stop))
            return
        if args.command != "restore" or not barman.config.exists():  # a restore needs no DATABASE_URL
            barman.write_config(settings)
        if args.command == "backup":
            parent = barman.backups()[-1].backup_id if args.incremental else None
            print(barman.backup(parent))
        elif args.command == "check":
            barman.check()
            print("ok")
        elif args.command == "list":
            for item in barman.backups():
                end = item.end_time.isoformat() if item.end_time else "-"
                print(item.backup_id, item.backup_type, item.status, end)
        elif args.command == "switch-wal":
            barman.switch_wal()
        elif args.command == "restore":
            dest = args.dest or barman.home.parent / f"restored-{args.to.strftime('%Y%m%dT%H%M%S')}"
            server = restore_to(barman, args.to, dest, args.port or None)
            print(f"restored to {args.to.isoformat()}: {server.url} (data in {server.data_dir}; "
                  f"stop it with `pg_ctl stop -D {server.data_dir}`)")
    except BarmanError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
