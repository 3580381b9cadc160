"""Settings of the backup job and the restore command (``BACKUP_*`` plus the common ones)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared.config import CommonSettings, setting


@dataclass(frozen=True, slots=True)
class BackupSettings(CommonSettings):
    """Where Barman keeps backups and WAL, how long, and how often the job backs up."""

    backup_dir: Path = setting(
        "BACKUP_DIR", Path(".data/backup"), help="Folder of the Barman catalogue: base backups, archived WAL, config"
    )
    backup_server: str = setting("BACKUP_SERVER", "wagerbabe", help="Barman's name for the backed-up PostgreSQL")
    backup_pg_bin: str = setting(
        "BACKUP_PG_BIN", "", help="Folder of pg_basebackup/pg_combinebackup matching the server; empty: the wheel's"
    )
    backup_retention: str = setting(
        "BACKUP_RETENTION", "RECOVERY WINDOW OF 7 DAYS",
        help="Barman retention policy (`REDUNDANCY n` or `RECOVERY WINDOW OF n DAYS`); older backups and WAL go",
    )
    backup_min_redundancy: int = setting(
        "BACKUP_MIN_REDUNDANCY", 1, help="Backups Barman never deletes, whatever the retention says", min=0, max=100
    )
    backup_full_every: float = setting(
        "BACKUP_FULL_EVERY", 86400.0, help="Seconds between full base backups taken by the backup job", min=60
    )
    backup_incremental_every: float = setting(
        "BACKUP_INCREMENTAL_EVERY", 0.0, min=0,
        help="Seconds between block-level incremental backups (PostgreSQL 17+, `summarize_wal=on`); 0: none",
    )
    backup_poll: float = setting(
        "BACKUP_POLL", 30.0, help="Seconds between the job's rounds (WAL intake, retention, metrics)", min=0.05,
        max=3600,
    )
    backup_host: str = setting("BACKUP_HOST", "127.0.0.1", help="Address of the backup job's health/metrics port")
    backup_port: int = setting("BACKUP_PORT", 9103, help="Health/metrics port of the backup job", min=0, max=65535)
    archive_timeout: int = setting(
        "BACKUP_ARCHIVE_TIMEOUT", 60, min=1, max=3600,
        help="`archive_timeout` for the PostgreSQL (Barman.archive_settings): seconds of writes a lost disk loses",
    )
