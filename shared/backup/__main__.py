"""``python -m shared.backup {run,backup,check,list,switch-wal}``: Barman glue (see docs/operations.md).

Restoring into a scratch instance is ``python -m devtools.restore`` (it starts a PostgreSQL).
"""

from __future__ import annotations

import argparse
import sys

from shared import logging as jlog
from shared.backup import job
from shared.backup.barman import Barman, BarmanError
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
    except BarmanError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
