"""A streaming hot standby of a PostgreSQL, made with the wheel's ``pg_basebackup -R``, and its promotion.

``-R`` writes ``standby.signal`` and ``primary_conninfo``, so the copy starts as a read-only replica
that follows the primary's WAL stream; ``promote`` turns it into a primary (failover).
"""

from __future__ import annotations

import os
import pwd
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2

from devtools.devservers import PG_SYSTEM_USER, EmbeddedPostgres, free_port


def make_standby(primary_url: str, data_dir: Path, port: int | None = None) -> EmbeddedPostgres:
    """Copy the primary at ``primary_url`` into ``data_dir`` as a standby and start it."""
    server = EmbeddedPostgres(data_dir, port, settings={"hot_standby_feedback": "on"})
    server.data_dir.mkdir(parents=True, exist_ok=False)
    server.data_dir.chmod(0o700)
    if server.as_root:
        entry = pwd.getpwnam(PG_SYSTEM_USER)
        os.chown(server.data_dir, entry.pw_uid, entry.pw_gid)
    parts = urlsplit(primary_url)
    server._run("pg_basebackup", "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432),
                "-U", parts.username or "postgres", "-D", str(server.data_dir), "-X", "stream", "-R",
                "-c", "fast", timeout=600)
    if port is None:  # the copy took a while: pick the port now, so nothing took it meanwhile
        server.port = free_port()
    server.start()
    return server


def promote(server: EmbeddedPostgres, timeout: float = 60) -> None:
    """Promote a standby to primary and wait until it accepts writes."""
    conn = psycopg2.connect(server.url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_promote(true, %s)", (int(timeout),))
    finally:
        conn.close()
    deadline = time.monotonic() + timeout
    while True:
        conn = psycopg2.connect(server.url)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_is_in_recovery()")
                row = cur.fetchone()
                if row is not None and not row[0]:
                    return
        finally:
            conn.close()
        if time.monotonic() > deadline:
            raise TimeoutError(f"standby on port {server.port} not promoted after {timeout:g}s")
        time.sleep(0.05)
