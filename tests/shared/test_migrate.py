"""Migrations: applied once, in order, idempotent, safe with two runners at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiopg
import pytest

from shared import migrate


async def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    async with aiopg.connect(url) as conn, conn.cursor() as cur:
        await cur.execute(sql)
        return list(await cur.fetchall())


async def test_project_migrations_apply_once_then_nothing(empty_database_url: str) -> None:
    first = await migrate.migrate(empty_database_url)
    assert first == [m.version for m in migrate.discover()]
    assert await migrate.migrate(empty_database_url) == []
    assert all(applied for _, _, applied in await migrate.status(empty_database_url))
    assert await _rows(empty_database_url, "SELECT count(*) FROM users") == [(0,)]


async def test_two_concurrent_runners_apply_each_file_once(empty_database_url: str, tmp_path: Path) -> None:
    # The slow first file widens the window in which both runners would apply it without the lock.
    (tmp_path / "0001_slow.sql").write_text(
        "SELECT pg_sleep(0.3); CREATE TABLE hits (n int); INSERT INTO hits VALUES (1);"
    )
    (tmp_path / "0002_more.sql").write_text("INSERT INTO hits VALUES (2);")
    a, b = await asyncio.gather(
        migrate.migrate(empty_database_url, tmp_path), migrate.migrate(empty_database_url, tmp_path)
    )
    assert sorted(a + b) == [1, 2]
    assert await _rows(empty_database_url, "SELECT n FROM hits ORDER BY n") == [(1,), (2,)]


async def test_failed_migration_rolls_back_and_stops(empty_database_url: str, tmp_path: Path) -> None:
    (tmp_path / "0001_ok.sql").write_text("CREATE TABLE a (x int);")
    (tmp_path / "0002_bad.sql").write_text("CREATE TABLE b (x int); SELECT no_such_function();")
    (tmp_path / "0003_later.sql").write_text("CREATE TABLE c (x int);")
    with pytest.raises(migrate.MigrationError, match="0002_bad.sql failed"):
        await migrate.migrate(empty_database_url, tmp_path)
    tables = await _rows(empty_database_url, "SELECT to_regclass('a'), to_regclass('b'), to_regclass('c')")
    assert tables == [("a", None, None)]
    assert await _rows(empty_database_url, "SELECT version FROM schema_migrations") == [(1,)]


async def test_edited_applied_migration_is_refused(empty_database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "0001_one.sql"
    path.write_text("CREATE TABLE one (x int);")
    await migrate.migrate(empty_database_url, tmp_path)
    path.write_text("CREATE TABLE one (x int, y int);")
    with pytest.raises(migrate.MigrationError, match="changed after it was applied"):
        await migrate.migrate(empty_database_url, tmp_path)


def test_badly_named_or_duplicate_files_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "1_x.sql").write_text("")
    with pytest.raises(migrate.MigrationError, match="NNNN_lower_snake"):
        migrate.discover(tmp_path)
    (tmp_path / "1_x.sql").unlink()
    (tmp_path / "0001_a.sql").write_text("")
    (tmp_path / "0001_b.sql").write_text("")
    with pytest.raises(migrate.MigrationError, match="used twice"):
        migrate.discover(tmp_path)
