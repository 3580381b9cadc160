"""Apply the numbered ``sql/NNNN_name.sql`` migrations in order, each once, each in its own transaction.

Applied files are recorded in ``schema_migrations`` with a checksum; an applied file that was edited
afterwards is an error (migrations are forward-only). A session advisory lock makes two runners at
once safe: the second waits, then finds nothing left to apply.

    python -m shared.migrate [--database-url URL] [--status]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import aiopg

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
LOCK_KEY = 0x5A6E_B4BE  # arbitrary, fixed: identifies "migrations" among advisory locks
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
SELECT_APPLIED = "SELECT version, name, checksum FROM schema_migrations ORDER BY version"
INSERT_APPLIED = (
    "INSERT INTO schema_migrations (version, name, checksum) VALUES (%(version)s, %(name)s, %(checksum)s)"
)


class MigrationError(RuntimeError):
    """A migration file is malformed, edited after it was applied, or failed to apply."""


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered SQL file."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(sql_dir: Path = SQL_DIR) -> list[Migration]:
    """Every migration file in ``sql_dir``, ordered by number; duplicate numbers are an error."""
    found: dict[int, Migration] = {}
    for path in sorted(sql_dir.glob("*.sql")):
        m = _NAME.match(path.name)
        if not m:
            raise MigrationError(f"{path.name}: migration files are named NNNN_lower_snake.sql")
        version = int(m.group(1))
        if version in found:
            raise MigrationError(f"{path.name}: number {version} is used twice")
        found[version] = Migration(version, m.group(2), path.read_text())
    return [found[v] for v in sorted(found)]


async def migrate(dsn: str, sql_dir: Path = SQL_DIR) -> list[int]:
    """Apply every pending migration; returns the versions applied by this call."""
    migrations = discover(sql_dir)
    applied_now: list[int] = []
    async with aiopg.connect(dsn, timeout=60) as conn, conn.cursor() as cur:
        await cur.execute("SELECT pg_advisory_lock(%(k)s)", {"k": LOCK_KEY})
        try:
            await cur.execute(CREATE_TABLE)
            await cur.execute(SELECT_APPLIED)
            applied = {row[0]: row for row in await cur.fetchall()}
            for mig in migrations:
                if mig.version in applied:
                    if applied[mig.version][2] != mig.checksum:
                        raise MigrationError(
                            f"{mig.version:04d}_{mig.name}.sql changed after it was applied; "
                            "add a new migration instead"
                        )
                    continue
                await cur.execute("BEGIN")
                try:
                    await cur.execute(mig.sql)
                    await cur.execute(
                        INSERT_APPLIED, {"version": mig.version, "name": mig.name, "checksum": mig.checksum}
                    )
                    await cur.execute("COMMIT")
                except Exception as exc:
                    await cur.execute("ROLLBACK")
                    raise MigrationError(f"{mig.version:04d}_{mig.name}.sql failed: {exc}") from exc
                log.info("applied migration %04d_%s", mig.version, mig.name)
                applied_now.append(mig.version)
        finally:
            await cur.execute("SELECT pg_advisory_unlock(%(k)s)", {"k": LOCK_KEY})
    return applied_now


async def status(dsn: str, sql_dir: Path = SQL_DIR) -> list[tuple[int, str, bool]]:
    """(version, name, applied?) for every migration file."""
    async with aiopg.connect(dsn, timeout=60) as conn, conn.cursor() as cur:
        await cur.execute(CREATE_TABLE)
        await cur.execute(SELECT_APPLIED)
        applied = {row[0] for row in await cur.fetchall()}
    return [(m.version, m.name, m.version in applied) for m in discover(sql_dir)]


def main(argv: list[str] | None = None) -> None:
    """Command line: apply pending migrations, or show their status."""
    parser = argparse.ArgumentParser(prog="python -m shared.migrate", description=__doc__.split("\n")[0])
    # Migrations hold a session advisory lock: never through PgBouncer in transaction mode.
    parser.add_argument("--database-url",
                        default=os.environ.get("DATABASE_DIRECT_URL") or os.environ.get("DATABASE_URL", ""),
                        help="PostgreSQL URL (default: $DATABASE_DIRECT_URL, else $DATABASE_URL)")
    parser.add_argument("--status", action="store_true", help="list migrations and whether each is applied")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("DATABASE_URL is not set and --database-url not given")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.status:
        for version, name, done in asyncio.run(status(args.database_url)):
            print(f"{version:04d} {name:40s} {'applied' if done else 'pending'}")
        return
    versions = asyncio.run(migrate(args.database_url))
    listed = f": {', '.join(f'{v:04d}' for v in versions)}" if versions else ""
    print(f"applied {len(versions)} migration(s){listed}")


if __name__ == "__main__":
    main()
