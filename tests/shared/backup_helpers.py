"""A PostgreSQL that ships its WAL to a Barman catalogue, and a small book to write money into."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2

from devtools.devservers import EmbeddedPostgres
from shared import migrate
from shared.backup.barman import Barman
from shared.backup.settings import BackupSettings
from shared.config import load


@dataclass
class Archived:
    """The source server, its Barman and the settings both were built from."""

    server: EmbeddedPostgres
    barman: Barman
    settings: BackupSettings
    env: dict[str, str]


@contextmanager
def archived_postgres(root: Path, archive_timeout: int = 60) -> Iterator[Archived]:
    """A fresh PostgreSQL archiving to a fresh catalogue under ``root``; stopped afterwards."""
    root = root / f"pitr-{uuid.uuid4().hex[:8]}"
    root.mkdir(parents=True)
    barman = Barman(root / "backup", "wagerbabe")
    server = EmbeddedPostgres(root / "src", settings=barman.archive_settings(archive_timeout))
    server.start()
    try:
        env = {"DATABASE_URL": server.url, "BACKUP_DIR": str(barman.home), "LOG_LEVEL": "WARNING"}
        settings = load(BackupSettings, env)
        barman.write_config(settings)
        yield Archived(server, barman, settings, env)
    finally:
        server.stop()


async def migrated(url: str) -> None:
    """Apply every migration."""
    await migrate.migrate(url)


def query(url: str, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    """Run one statement in autocommit and return its rows."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall()) if cur.description else []
    finally:
        conn.close()


@dataclass(frozen=True)
class MoneyState:
    """What a restore must bring back: entries, bets and every account's money."""

    ledger_ids: list[int]
    bet_ids: list[int]
    balances: dict[int, tuple[int, int]]


def money_state(url: str) -> MoneyState:
    """The ledger entry ids, bet ids and (balance, pending risk) of every account."""
    return MoneyState(
        [r[0] for r in query(url, "SELECT id FROM ledger_entries ORDER BY id")],
        [r[0] for r in query(url, "SELECT id FROM bets ORDER BY id")],
        {r[0]: (r[1], r[2]) for r in query(url, "SELECT id, balance_cents, pending_risk_cents FROM users")},
    )
