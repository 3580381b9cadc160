"""The embedded servers start, accept connections and stop without leaving processes behind."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
import redis

from devtools.devservers import EmbeddedPostgres, EmbeddedRedis, pid_alive


@pytest.fixture
def tmp_path(data_root: Path) -> Iterator[Path]:
    """A folder under the project's .data: as root, PostgreSQL's system user must reach it, and
    pytest's shared /tmp base folder is private to root (and pruned by other pytest runs)."""
    path = data_root / f"dev-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    yield path


def test_embedded_postgres_starts_serves_and_stops(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "pg", fast=True)
    url = server.start()
    pid = server.pid
    assert pid is not None and pid_alive(pid)
    try:
        conn = psycopg2.connect(url)
        with conn.cursor() as cur:
            cur.execute("SELECT current_setting('listen_addresses'), current_setting('port')")
            assert cur.fetchone() == ("127.0.0.1", str(server.port))
        conn.close()
    finally:
        server.stop()
    assert server.pid is None and not pid_alive(pid)


def test_embedded_postgres_restarts_on_existing_data(tmp_path: Path) -> None:
    first = EmbeddedPostgres(tmp_path / "pg", fast=True)
    conn = psycopg2.connect(first.start())
    conn.autocommit = True
    conn.cursor().execute("CREATE TABLE kept (x int)")
    conn.close()
    first.stop()
    second = EmbeddedPostgres(tmp_path / "pg", fast=True)
    conn = psycopg2.connect(second.start())
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('kept') IS NOT NULL")
            assert cur.fetchone() == (True,)
    finally:
        conn.close()
        second.stop()


def test_embedded_redis_starts_serves_and_stops(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "redis")
    client = redis.Redis.from_url(server.start())
    pid = server.pid
    assert pid is not None
    try:
        client.xadd("s", {"a": "1"})
        assert client.xlen("s") == 1
    finally:
        client.close()
        server.stop()
    assert not pid_alive(pid)


def test_development_redis_keeps_its_data_across_a_restart_and_tests_redis_does_not(tmp_path: Path) -> None:
    """./dev up's Redis runs with AOF (everysec), as production should; the tests' loses everything."""
    for persistent, kept in ((True, 1), (False, 0)):
        server = EmbeddedRedis(tmp_path / f"redis-{persistent}", persistent=persistent)
        client = redis.Redis.from_url(server.start())
        try:
            assert client.config_get("appendonly")["appendonly"] == ("yes" if persistent else "no")
            assert client.config_get("appendfsync")["appendfsync"] == "everysec"
            client.xadd("odds:x", {"a": "1"})
            client.hset("snap:x", mapping={"_epoch": "e1"})
            server.stop()
            server.start()
            client.close()
            client = redis.Redis.from_url(server.url)
            assert client.xlen("odds:x") == kept and len(client.hgetall("snap:x")) == kept
        finally:
            client.close()
            server.stop()
