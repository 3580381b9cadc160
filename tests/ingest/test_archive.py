"""Archival: old odds_history days go to checksummed gzip files and are dropped; a day can be restored."""

from __future__ import annotations

import gzip
import hashlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiopg
import orjson
import pytest

from ingest.archive import Archiver, archive_day, archive_due, archive_path, restore_day
from shared.errors import Conflict

# A fixed now for every archive decision, so no test straddles midnight.
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
OLD = TODAY - timedelta(days=10)


async def _q(pg: aiopg.Pool, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    async with pg.acquire() as conn, conn.cursor() as cur:
        await cur.execute(sql, params)
        return list(await cur.fetchall()) if cur.description else []


async def _fill_day(pg: aiopg.Pool, day: date, rows: int) -> None:
    await _q(pg, "SELECT odds_history_ensure_partitions(%(d)s::date, 1)", {"d": day})
    await _q(pg, """
        INSERT INTO odds_history (event_id, book, market, outcome, price, point, changed_at)
        SELECT 'e' || mod(i, 7), 'dk', 'spreads', 'Team ' || mod(i, 2),
               CASE WHEN mod(i, 11) = 0 THEN NULL ELSE -110 - mod(i, 40) END,
               CASE WHEN mod(i, 3) = 0 THEN NULL ELSE mod(i, 9) - 4.5 END,
               %(d)s::timestamp AT TIME ZONE 'UTC' + i * interval '1 second'
        FROM generate_series(1, %(n)s) AS i""", {"d": day, "n": rows})


async def _day_rows(pg: aiopg.Pool, day: date) -> list[tuple[Any, ...]]:
    lo = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return await _q(pg, """SELECT event_id, book, market, outcome, price, point, changed_at FROM odds_history
                           WHERE changed_at >= %(lo)s AND changed_at < %(hi)s ORDER BY changed_at, event_id""",
                    {"lo": lo, "hi": lo + timedelta(days=1)})


async def _only_our_days(pg: aiopg.Pool) -> None:
    """Drop the partitions the migrations made around the database's own today, so only the days
    a test fills exist: at a fixed now, the migration's days could otherwise count as old."""
    names = await _q(pg, "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                         "WHERE i.inhparent = 'odds_history'::regclass")
    for (name,) in names:
        await _q(pg, f'DROP TABLE "{name}"')


async def _partition_exists(pg: aiopg.Pool, day: date) -> bool:
    rows = await _q(pg, "SELECT to_regclass(odds_history_partition_name(%(d)s::date)) IS NOT NULL", {"d": day})
    return bool(rows[0][0])


async def test_old_day_is_exported_verified_recorded_and_dropped(pg: aiopg.Pool, tmp_path: Path) -> None:
    await _only_our_days(pg)
    await _fill_day(pg, OLD, 12_345)  # more than one export chunk
    await _fill_day(pg, TODAY, 10)
    done = await archive_due(pg, tmp_path, keep_days=7, now=NOW)
    assert [a.day for a in done] == [OLD]
    path = archive_path(tmp_path, OLD)
    assert done[0].path == path and done[0].rows == 12_345
    with gzip.open(path, "rb") as f:
        lines = [orjson.loads(line) for line in f]
    assert len(lines) == 12_345
    assert {"event", "book", "market", "outcome", "price", "point", "changed_at"} == set(lines[0])
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert path.with_name(path.name + ".sha256").read_text().split()[0] == digest == done[0].sha256
    assert not await _partition_exists(pg, OLD)
    assert await _partition_exists(pg, TODAY) and len(await _day_rows(pg, TODAY)) == 10
    record = await _q(pg, "SELECT row_count, sha256, dropped_at IS NOT NULL FROM odds_archives WHERE day = %(d)s",
                      {"d": OLD})
    assert record == [(12_345, digest, True)]
    assert await archive_due(pg, tmp_path, keep_days=7, now=NOW) == []  # re-running is safe


async def test_restore_brings_a_day_back_exactly(pg: aiopg.Pool, tmp_path: Path) -> None:
    await _only_our_days(pg)
    await _fill_day(pg, OLD, 3000)
    before = await _day_rows(pg, OLD)
    await archive_day(pg, OLD, tmp_path)
    assert await _day_rows(pg, OLD) == []
    assert await restore_day(pg, OLD, tmp_path, now=NOW) == 3000
    assert await _day_rows(pg, OLD) == before
    assert await restore_day(pg, OLD, tmp_path, now=NOW) == 3000  # again: replaces, never doubles
    assert len(await _day_rows(pg, OLD)) == 3000
    assert await archive_due(pg, tmp_path, keep_days=7, now=NOW) == []  # a restored day is left alone for a while


async def test_a_tampered_archive_is_refused(pg: aiopg.Pool, tmp_path: Path) -> None:
    await _fill_day(pg, OLD, 50)
    await archive_day(pg, OLD, tmp_path)
    path = archive_path(tmp_path, OLD)
    with gzip.open(path, "ab") as f:
        f.write(b'{"event":"forged"}\n')
    with pytest.raises(Conflict, match="checksum"):
        await restore_day(pg, OLD, tmp_path, now=NOW)
    assert await _day_rows(pg, OLD) == []


async def test_a_failed_export_drops_nothing(pg: aiopg.Pool, tmp_path: Path) -> None:
    await _only_our_days(pg)
    await _fill_day(pg, OLD, 100)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the archive folder should be")
    assert await archive_due(pg, blocked, keep_days=7, now=NOW) == []
    assert await _partition_exists(pg, OLD) and len(await _day_rows(pg, OLD)) == 100
    assert await _q(pg, "SELECT count(*) FROM odds_archives") == [(0,)]


async def test_archiver_run_creates_partitions_ahead(pg: aiopg.Pool, tmp_path: Path) -> None:
    archiver = Archiver(pg, tmp_path, keep_days=7, interval=3600, ahead=12, clock=lambda: NOW)
    await archiver.run_once()
    assert await _partition_exists(pg, TODAY + timedelta(days=12))
