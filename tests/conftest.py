"""Real servers for the whole suite.

Embedded PostgreSQL and Redis start once per session (or ``DATABASE_URL`` / ``REDIS_URL`` point at
real ones). Migrations run once into a template database; each test gets a fresh database cloned
from it and a freshly flushed Redis database of its own.
"""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
import redis as redis_sync
from aiosmtpd.controller import Controller

from devtools.devservers import EmbeddedPostgres, EmbeddedRedis, free_port
from shared import migrate
from shared.tokens import KeyRing

ROOT = Path(__file__).resolve().parent.parent
# One factor stretches every wait in the suite on a slow machine (never a timing assertion).
TIMEOUT_FACTOR = float(os.environ.get("TEST_TIMEOUT_FACTOR", "1"))


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` instead."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin_exec(url: str, sql: str) -> None:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


@pytest.fixture(scope="session")
def data_root() -> Iterator[Path]:
    """A project-local folder for this session's server data (ignored by git), removed at the end."""
    path = ROOT / ".data" / f"test-{os.getpid()}"
    path.mkdir(parents=True, exist_ok=True)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server_url(data_root: Path) -> Iterator[str]:
    """URL of the session's PostgreSQL server (its maintenance database)."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    server = EmbeddedPostgres(data_root / "pg", fast=True)
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_server_url(data_root: Path) -> Iterator[str]:
    """URL of the session's Redis server."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    server = EmbeddedRedis(data_root / "redis")
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def template_db(pg_server_url: str) -> Iterator[str]:
    """A database with every migration applied, used as the template of each test's database."""
    import asyncio

    name = f"wb_tpl_{os.getpid()}"
    _admin_exec(pg_server_url, f"DROP DATABASE IF EXISTS {name}")
    _admin_exec(pg_server_url, f"CREATE DATABASE {name}")
    asyncio.run(migrate.migrate(with_database(pg_server_url, name)))
    yield name
    _admin_exec(pg_server_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def database_url(pg_server_url: str, template_db: str) -> Iterator[str]:
    """A fresh, migrated, throwaway database for one test."""
    name = f"wb_t_{uuid.uuid4().hex[:12]}"
    _admin_exec(pg_server_url, f"CREATE DATABASE {name} TEMPLATE {template_db}")
    yield with_database(pg_server_url, name)
    _admin_exec(pg_server_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def empty_database_url(pg_server_url: str) -> Iterator[str]:
    """A fresh database with no migrations applied."""
    name = f"wb_e_{uuid.uuid4().hex[:12]}"
    _admin_exec(pg_server_url, f"CREATE DATABASE {name}")
    yield with_database(pg_server_url, name)
    _admin_exec(pg_server_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


_redis_db = itertools.count(1)


@pytest.fixture
def redis_url(redis_server_url: str) -> Iterator[str]:
    """A flushed Redis database for one test (databases rotate; tests run one at a time)."""
    client = redis_sync.Redis.from_url(redis_server_url)
    try:
        count = int(client.config_get("databases")["databases"])
    except redis_sync.ResponseError:
        count = 16
    finally:
        client.close()
    db = 1 + next(_redis_db) % (count - 1)
    url = with_database(redis_server_url, str(db))
    client = redis_sync.Redis.from_url(url)
    client.flushdb()
    client.close()
    yield url


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    """A Redis server of the test's own, for tests that stop or restart it."""
    server = EmbeddedRedis(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def keys_dir(data_root: Path) -> Path:
    """A folder with one RS256 signing key for the session."""
    path = data_root / "keys"
    KeyRing.load(path, create=True)
    return path


@pytest.fixture
def base_env(database_url: str, redis_url: str, keys_dir: Path) -> dict[str, str]:
    """Environment variables pointing a service at this test's servers."""
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "AUTH_KEYS_DIR": str(keys_dir),
        "LOG_LEVEL": "INFO",
    }


@pytest.fixture
def smtp() -> Iterator[tuple[Any, int]]:
    """A real SMTP server (aiosmtpd in its own thread): its ``tests.helpers.Inbox`` and port."""
    from tests.helpers import Inbox

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()
