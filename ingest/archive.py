"""Archival of odds_history: days older than the retention go to gzip'd JSON-lines files, then drop.

For each day: export the partition to ``odds_history_YYYYMMDD.jsonl.gz`` (written to a temporary
name, then renamed) with a ``.sha256`` beside it, read the file back and compare its row count with
the partition's, record it in ``odds_archives``, and only then detach and drop the partition, in one
transaction. A failed export drops nothing; re-running is safe. ``restore_day`` loads a day back.

    python -m ingest.archive restore 2026-11-10     (uses DATABASE_URL and INGEST_ARCHIVE_DIR)
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import hashlib
import logging
import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiopg
import orjson

from ingest.metrics import ARCHIVED_DAYS
from shared.clock import Clock, utc_now
from shared.errors import Conflict, NotFound

log = logging.getLogger(__name__)
CHUNK = 5000
_PART = re.compile(r"^odds_history_(\d{8})$")

LIST_PARTITIONS = """
SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'odds_history'::regclass ORDER BY c.relname
"""
PARTITION_EXISTS = "SELECT to_regclass(odds_history_partition_name(%(day)s::date)) IS NOT NULL"
ARCHIVE_ROW = "SELECT path, row_count, sha256, dropped_at, restored_at FROM odds_archives WHERE day = %(day)s"
# The partition name comes from odds_history_partition_name (a day formatted by PostgreSQL), and
# %I quotes it, so no SQL is built from outside input.
COUNT_ROWS = "SELECT count(*) FROM odds_history WHERE changed_at >= %(lo)s AND changed_at < %(hi)s"
# Keyset pages by tid (the partition is a past day: no writes move rows). The alias matters: with
# the output column named ctid, ORDER BY ctid would sort by its text.
READ_CHUNK = """
SELECT ctid::text AS pos, event_id, book, market, outcome, price, point, changed_at
FROM odds_history WHERE changed_at >= %(lo)s AND changed_at < %(hi)s AND ctid > %(after)s::tid
ORDER BY ctid LIMIT %(limit)s
"""
RECORD_ARCHIVE = """
INSERT INTO odds_archives (day, path, row_count, sha256) VALUES (%(day)s, %(path)s, %(rows)s, %(sha)s)
ON CONFLICT (day) DO UPDATE SET path = EXCLUDED.path, row_count = EXCLUDED.row_count, sha256 = EXCLUDED.sha256,
    archived_at = now(), dropped_at = NULL
"""
DROP_PARTITION = """
DO $$ BEGIN
  EXECUTE format('ALTER TABLE odds_history DETACH PARTITION %%I', odds_history_partition_name(%(day)s::date));
  EXECUTE format('DROP TABLE %%I', odds_history_partition_name(%(day)s::date));
END $$
"""
MARK_DROPPED = "UPDATE odds_archives SET dropped_at = now() WHERE day = %(day)s"
CREATE_PARTITION = "SELECT odds_history_ensure_partitions(%(day)s::date, 1)"
CLEAR_DAY = "DELETE FROM odds_history WHERE changed_at >= %(lo)s AND changed_at < %(hi)s"
INSERT_ROWS = """
INSERT INTO odds_history (event_id, book, market, outcome, price, point, changed_at)
SELECT * FROM unnest(%(events)s::text[], %(books)s::text[], %(markets)s::text[], %(outcomes)s::text[],
                     %(prices)s::integer[], %(points)s::numeric[], %(ats)s::timestamptz[])
"""
MARK_RESTORED = "UPDATE odds_archives SET restored_at = %(now)s WHERE day = %(day)s"


@dataclass(frozen=True, slots=True)
class Archived:
    """One archived day."""

    day: date
    path: Path
    rows: int
    sha256: str


def archive_path(folder: Path, day: date) -> Path:
    """Where a day's archive lives."""
    return folder / f"odds_history_{day:%Y%m%d}.jsonl.gz"


def _bounds(day: date) -> dict[str, datetime]:
    lo = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return {"lo": lo, "hi": lo + timedelta(days=1)}


def _row(r: tuple[Any, ...]) -> bytes:
    point = r[6]
    return orjson.dumps({"event": r[1], "book": r[2], "market": r[3], "outcome": r[4], "price": r[5],
                         "point": None if point is None else str(point), "changed_at": r[7].isoformat()}) + b"\n"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def count_lines(path: Path) -> int:
    """Lines in a gzip'd file."""
    with gzip.open(path, "rb") as f:
        return sum(1 for _ in f)


async def _scalar(pool: aiopg.Pool, sql: str, params: dict[str, Any]) -> Any:
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(sql, params)
        row = await cur.fetchone()
        return row[0] if row else None


async def due_days(pool: aiopg.Pool, keep_days: int, now: datetime | None = None) -> list[date]:
    """Days with a partition older than ``keep_days`` before ``now`` (restored days are left alone
    for that long)."""
    now = now or utc_now()
    cutoff = now.date() - timedelta(days=keep_days)
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(LIST_PARTITIONS)
        names = [r[0] for r in await cur.fetchall()]
        days = []
        for name in names:
            m = _PART.match(name)
            if not m:
                continue
            day = datetime.strptime(m.group(1), "%Y%m%d").date()
            if day >= cutoff:
                continue
            await cur.execute(ARCHIVE_ROW, {"day": day})
            row = await cur.fetchone()
            if row and row[4] is not None and row[4] > now - timedelta(days=keep_days):
                continue
            days.append(day)
    return days


async def archive_day(pool: aiopg.Pool, day: date, folder: Path) -> Archived | None:
    """Export, verify, record and drop one day's partition; None if there is no partition."""
    if not await _scalar(pool, PARTITION_EXISTS, {"day": day}):
        return None
    folder.mkdir(parents=True, exist_ok=True)
    final = archive_path(folder, day)
    tmp = final.with_name(final.name + ".tmp")
    bounds = _bounds(day)
    try:
        with gzip.open(tmp, "wb", compresslevel=6) as out:
            after = "(0,0)"
            async with pool.acquire() as conn, conn.cursor() as cur:
                while True:
                    await cur.execute(READ_CHUNK, {**bounds, "after": after, "limit": CHUNK})
                    rows = await cur.fetchall()
                    if not rows:
                        break
                    out.write(b"".join(_row(r) for r in rows))
                    after = rows[-1][0]
        expected = await _scalar(pool, COUNT_ROWS, bounds)
        written = await asyncio.to_thread(count_lines, tmp)
        if written != expected:
            raise RuntimeError(f"archive of {day} has {written} rows, the partition {expected}")
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    digest = await asyncio.to_thread(sha256_file, final)
    final.with_name(final.name + ".sha256").write_text(f"{digest}  {final.name}\n")
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute("BEGIN")
        try:
            await cur.execute(RECORD_ARCHIVE, {"day": day, "path": str(final), "rows": expected, "sha": digest})
            # The record and the drop commit together: a dropped day always has its file on record.
            await cur.execute(DROP_PARTITION, {"day": day})
            await cur.execute(MARK_DROPPED, {"day": day})
            await cur.execute("COMMIT")
        except BaseException:
            await cur.execute("ROLLBACK")
            raise
    ARCHIVED_DAYS.inc()
    log.info("archived odds_history %s: %d rows to %s", day, expected, final.name)
    return Archived(day, final, int(expected), digest)


async def archive_due(pool: aiopg.Pool, folder: Path, keep_days: int,
                      now: datetime | None = None) -> list[Archived]:
    """Archive every day older than ``keep_days`` before ``now``; a failing day is logged and the
    others go on."""
    done = []
    for day in await due_days(pool, keep_days, now):
        try:
            result = await archive_day(pool, day, folder)
        except Exception:
            log.exception("archiving odds_history %s failed; nothing was dropped", day)
            continue
        if result is not None:
            done.append(result)
    return done


def _read_archive(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rb") as f:
        return [orjson.loads(line) for line in f if line.strip()]


async def restore_day(pool: aiopg.Pool, day: date, folder: Path, now: datetime | None = None) -> int:
    """Load one archived day back into its partition (replacing what it holds) at ``now``; returns
    the rows."""
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(ARCHIVE_ROW, {"day": day})
        row = await cur.fetchone()
    path = Path(row[0]) if row else archive_path(folder, day)
    if not path.exists():
        path = archive_path(folder, day)
    if not path.exists():
        raise NotFound(f"no archive of {day}", details={"path": str(path)})
    digest = await asyncio.to_thread(sha256_file, path)
    side = path.with_name(path.name + ".sha256")
    expected_sha = row[2] if row else (side.read_text().split()[0] if side.exists() else digest)
    if digest != expected_sha:
        raise Conflict(f"archive of {day} fails its checksum", details={"path": str(path)})
    rows = await asyncio.to_thread(_read_archive, path)
    if row and len(rows) != row[1]:
        raise Conflict(f"archive of {day} has {len(rows)} rows, {row[1]} were archived")
    bounds = _bounds(day)
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(CREATE_PARTITION, {"day": day})
        await cur.execute("BEGIN")
        try:
            await cur.execute(CLEAR_DAY, bounds)
            for i in range(0, len(rows), CHUNK):
                part = rows[i:i + CHUNK]
                await cur.execute(INSERT_ROWS, {
                    "events": [r["event"] for r in part], "books": [r["book"] for r in part],
                    "markets": [r["market"] for r in part], "outcomes": [r["outcome"] for r in part],
                    "prices": [r["price"] for r in part],
                    "points": [None if r["point"] is None else Decimal(r["point"]) for r in part],
                    "ats": [r["changed_at"] for r in part]})
            await cur.execute(COUNT_ROWS, bounds)
            count = (await cur.fetchone())[0]
            if count != len(rows):
                raise Conflict(f"restored {count} rows of {day}, expected {len(rows)}")
            await cur.execute(MARK_RESTORED, {"day": day, "now": now or utc_now()})
            await cur.execute("COMMIT")
        except BaseException:
            await cur.execute("ROLLBACK")
            raise
    log.info("restored odds_history %s: %d rows", day, len(rows))
    return len(rows)


class Archiver:
    """The daily job: partitions ahead, then archive and drop old days."""

    name = "archiver"

    def __init__(self, pool: aiopg.Pool, folder: Path, keep_days: int, interval: float, ahead: int,
                 clock: Clock = utc_now) -> None:
        self.pool = pool
        self.clock = clock
        self.folder = folder
        self.keep_days = keep_days
        self.interval = interval
        self.ahead = ahead

    async def run_once(self) -> list[Archived]:
        """Create partitions ahead, then archive every due day."""
        now = self.clock()
        first = now.date() - timedelta(days=1)
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute("SELECT odds_history_ensure_partitions(%(first)s::date, %(days)s)",
                              {"first": first, "days": self.ahead + 2})
        return await archive_due(self.pool, self.folder, self.keep_days, now)

    async def run(self, stop: asyncio.Event) -> None:
        """Run once per interval until ``stop`` is set; failures wait for the next run."""
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception as exc:  # PG down: the next run catches up
                log.warning("archive run failed: %s", type(exc).__name__)
            try:
                await asyncio.wait_for(stop.wait(), self.interval)
            except TimeoutError:
                pass


def main() -> None:
    """``python -m ingest.archive restore DAY | archive``."""
    parser = argparse.ArgumentParser(prog="python -m ingest.archive", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("restore", "archive"))
    parser.add_argument("day", nargs="?", help="YYYY-MM-DD (restore)")
    args = parser.parse_args()
    from ingest.config import IngestSettings
    from shared.config import load
    from shared.db import create_pool

    settings = load(IngestSettings)
    logging.basicConfig(level=logging.INFO)

    async def go() -> None:
        pool = await create_pool(settings.database_url)
        try:
            if args.action == "restore":
                n = await restore_day(pool, date.fromisoformat(args.day), settings.archive_dir)
                print(f"restored {n} rows of {args.day}")
            else:
                for a in await archive_due(pool, settings.archive_dir, settings.archive_days):
                    print(f"archived {a.day}: {a.rows} rows -> {a.path}")
        finally:
            pool.close()
            await pool.wait_closed()

    asyncio.run(go())


if __name__ == "__main__":
    main()
