"""Barman's configuration and commands, for one PostgreSQL server on this machine.

WAL reaches Barman through ``archive_command`` (copied into a spool folder, then renamed into
Barman's ``incoming`` folder so Barman never sees half a file); base backups use
``pg_basebackup`` (``backup_method = postgres``). Barman runs as the calling user; as root the
WAL folders belong to the PostgreSQL system user, which runs ``archive_command``.
"""

from __future__ import annotations

import json
import os
import pwd
import shlex
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg2.extensions

from shared.backup.settings import BackupSettings
from shared.pgbin import PG_SYSTEM_USER, wheel_pg_bin


class BarmanError(RuntimeError):
    """A Barman command failed; the message carries its output."""


@dataclass(frozen=True, slots=True)
class Backup:
    """One base backup in Barman's catalogue."""

    backup_id: str
    status: str
    end_time: datetime | None
    backup_type: str


@dataclass(frozen=True, slots=True)
class Barman:
    """Barman for one server: paths derived from ``BACKUP_DIR`` and a config file written there."""

    home: Path
    server: str

    @classmethod
    def from_settings(cls, settings: BackupSettings) -> Barman:
        return cls(settings.backup_dir.resolve(), settings.backup_server)

    @property
    def config(self) -> Path:
        return self.home / "barman.conf"

    @property
    def incoming(self) -> Path:
        return self.home / "incoming"

    @property
    def spool(self) -> Path:
        return self.home / "spool"

    def archive_command(self) -> str:
        """The ``archive_command`` PostgreSQL runs for each finished WAL segment."""
        spool, incoming = shlex.quote(str(self.spool)), shlex.quote(str(self.incoming))
        return f"test ! -f {incoming}/%f && cp %p {spool}/%f && mv {spool}/%f {incoming}/%f"

    def archive_settings(self, archive_timeout: int) -> dict[str, str]:
        """The PostgreSQL settings that ship WAL to this catalogue (``-c`` options or postgresql.conf)."""
        return {"wal_level": "replica", "archive_mode": "on", "archive_command": self.archive_command(),
                "archive_timeout": str(archive_timeout), "summarize_wal": "on"}

    def write_config(self, settings: BackupSettings, database_url: str | None = None) -> Path:
        """Write barman.conf for ``database_url`` (default ``DATABASE_URL``) and make the folders."""
        dsn = database_url or settings.database_direct_url or settings.database_url
        if not dsn:
            raise BarmanError("DATABASE_URL is not set: Barman needs the PostgreSQL to back up")
        pg_bin = settings.backup_pg_bin or str(wheel_pg_bin())
        for path in (self.home, self.incoming, self.spool, self.home / "log", self.home / "catalogue"):
            path.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            # PostgreSQL (the system user) runs archive_command: it writes spool and incoming.
            entry = pwd.getpwnam(PG_SYSTEM_USER)
            for path in (self.incoming, self.spool):
                os.chown(path, entry.pw_uid, entry.pw_gid)
            for path in (self.home, *self.home.parents):
                if path.stat().st_mode & 0o011 != 0o011:
                    path.chmod(path.stat().st_mode | 0o011)
        user = pwd.getpwuid(os.geteuid()).pw_name
        lines = [
            "[barman]",
            f"barman_home = {self.home / 'catalogue'}",
            f"barman_user = {user}",
            f"log_file = {self.home / 'log' / 'barman.log'}",
            "log_level = INFO",
            f"configuration_files_directory = {self.home / 'conf.d'}",
            "",
            f"[{self.server}]",
            "description = WagerBabe PostgreSQL",
            f"conninfo = {conninfo(dsn)}",
            f"streaming_conninfo = {conninfo(dsn)}",
            "backup_method = postgres",
            "archiver = on",
            "streaming_archiver = off",
            f"incoming_wals_directory = {self.incoming}",
            f"path_prefix = {pg_bin}",
            f"retention_policy = {settings.backup_retention}",
            f"minimum_redundancy = {settings.backup_min_redundancy}",
            "backup_options = concurrent_backup",
        ]
        (self.home / "conf.d").mkdir(exist_ok=True)
        self.config.write_text("\n".join(lines) + "\n")
        return self.config

    def run(self, *args: str, timeout: float = 3600, json_out: bool = False) -> str:
        """Run ``barman <args>`` on this config; raise BarmanError with its output when it fails."""
        exe = Path(sys.executable).with_name("barman")
        cmd = [str(exe), "-c", str(self.config), *(["-f", "json"] if json_out else []), *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise BarmanError(f"barman {' '.join(args)} failed ({proc.returncode}): "
                              f"{(proc.stdout + proc.stderr).strip()[-2000:]}")
        return proc.stdout

    def cron(self) -> None:
        """Move archived WAL from incoming into the catalogue and apply the retention policy."""
        self.run("cron")

    def check(self) -> None:
        """``barman check``: raise BarmanError naming the failed checks."""
        self.run("check", self.server)

    def switch_wal(self) -> None:
        """Close the current WAL segment and wait until Barman has archived it."""
        self.run("switch-wal", "--force", "--archive", "--archive-timeout", "60", self.server)

    def backup(self, incremental_from: str | None = None) -> str:
        """Take a base backup (``--wait``: until its WAL is archived) and return its id."""
        args = ["backup", "--wait", "--wait-timeout", "120"]
        if incremental_from:
            args += ["--incremental", incremental_from]
        self.run(*args, self.server)
        done = [b for b in self.backups() if b.status == "DONE"]
        if not done:
            raise BarmanError("barman backup finished but lists no backup")
        return done[-1].backup_id

    def backups(self) -> list[Backup]:
        """The catalogue, oldest first."""
        data: Any = json.loads(self.run("list-backups", self.server, json_out=True) or "{}")
        rows = data.get(self.server, []) if isinstance(data, dict) else []
        out = [Backup(r["backup_id"], r["status"], _parse_time(r.get("end_time_timestamp")),
                      str(r.get("backup_type", "full"))) for r in rows]
        return sorted(out, key=lambda b: b.backup_id)


def conninfo(url: str) -> str:
    """A libpq URL as the ``key=value`` string Barman requires."""
    params = psycopg2.extensions.parse_dsn(url)
    return " ".join(f"{k}={_quote(str(v))}" for k, v in params.items())


def _quote(value: str) -> str:
    if value and not any(c in value for c in " '\\"):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _parse_time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    return datetime.fromtimestamp(float(value), UTC)
