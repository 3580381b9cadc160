"""TLS on the links, with a throwaway CA: PostgreSQL with sslmode=verify-full, Redis as rediss://.

The embedded PostgreSQL and Redis wheels are built without TLS, so TLS ends in front of them on the
server's host: PgBouncer (Debian, OpenSSL) for PostgreSQL, HAProxy for Redis.
"""

from __future__ import annotations

import os
import pwd
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg2
import pytest
import redis as redis_sync

from devtools.devservers import PG_SYSTEM_USER, EmbeddedRedis, free_port, wait_port
from devtools.pgbouncer import PgBouncer
from restapi.app import create_app
from restapi.config import RestSettings
from shared.config import load
from shared.tokens import KeyRing, access_claims
from tests.conftest import TIMEOUT_FACTOR
from tests.restapi.betting.conftest import BOOK_SQL, INSERT_PRICE, PRICES, straight
from tests.shared.backup_helpers import query
from tests.shared.tls_helpers import Pki, make_pki


@pytest.fixture
def pki(data_root: Path) -> Pki:
    """A CA and a certificate for 127.0.0.1 (readable by the PostgreSQL system user when root)."""
    pki = make_pki(data_root / f"pki-{uuid.uuid4().hex[:8]}")
    if os.geteuid() == 0:
        entry = pwd.getpwnam(PG_SYSTEM_USER)
        for path in (pki.ca.parent, pki.cert, pki.key, pki.ca):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    return pki


@pytest.fixture
def tls_postgres(pg_server_url: str, database_url: str, data_root: Path, pki: Pki) -> Iterator[str]:
    """The test's database reached through PgBouncer requiring TLS with the CA's certificate (URL without TLS)."""
    bouncer = PgBouncer(data_root / f"tls-pgbouncer-{uuid.uuid4().hex[:8]}", pg_server_url, pool_size=5,
                        tls_cert=pki.cert, tls_key=pki.key)
    bouncer.start()
    yield bouncer.url_for(database_url)
    bouncer.stop()


def verified(url: str, ca: Path, host: str = "127.0.0.1") -> str:
    """``url`` with sslmode=verify-full against ``ca`` (and ``host`` as the name to check)."""
    return url.replace("127.0.0.1", host) + f"?sslmode=verify-full&sslrootcert={quote(str(ca))}"


def test_postgres_verify_full_accepts_our_ca_and_refuses_another_ca_or_name(
        tls_postgres: str, pki: Pki, data_root: Path) -> None:
    good = verified(tls_postgres, pki.ca)
    assert query(good, "SELECT 1") == [(1,)]
    with pytest.raises(psycopg2.OperationalError, match="SSL required|server does not support SSL|TLS"):
        psycopg2.connect(tls_postgres + "?sslmode=disable").close()
    stranger = make_pki(data_root / f"pki-other-{uuid.uuid4().hex[:8]}", cn="someone else CA")
    with pytest.raises(psycopg2.OperationalError, match="certificate verify failed"):
        psycopg2.connect(verified(tls_postgres, stranger.ca)).close()
    with pytest.raises(psycopg2.OperationalError, match="does not match host name"):
        psycopg2.connect(verified(tls_postgres, pki.ca, host="localhost")).close()


@pytest.fixture
def rediss(data_root: Path, pki: Pki) -> Iterator[str]:
    """Redis behind HAProxy terminating TLS with the CA's certificate: a rediss:// URL."""
    folder = data_root / f"rediss-{uuid.uuid4().hex[:8]}"
    server = EmbeddedRedis(folder / "redis")
    server.start()
    bundle = folder / "haproxy.pem"
    bundle.write_bytes(pki.cert.read_bytes() + pki.key.read_bytes())
    port = free_port()
    cfg = folder / "haproxy.cfg"
    cfg.write_text("\n".join([
        "global", "  maxconn 1000", "defaults", "  mode tcp", "  timeout connect 5s", "  timeout client 1h",
        "  timeout server 1h", "frontend redis_tls", f"  bind 127.0.0.1:{port} ssl crt {bundle}",
        "  default_backend redis", "backend redis", f"  server r1 127.0.0.1:{server.port}", ""]))
    proc = subprocess.Popen(["haproxy", "-db", "-f", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_port("127.0.0.1", port, timeout=15 * TIMEOUT_FACTOR)
        yield f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={quote(str(pki.ca))}&ssl_cert_reqs=required"
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stderr:
            proc.stderr.close()
        server.stop()


def test_rediss_verifies_the_certificate_of_the_tls_end(rediss: str, data_root: Path) -> None:
    client = redis_sync.Redis.from_url(rediss)
    try:
        assert client.ping() and client.set("k", "v") and client.get("k") == b"v"
    finally:
        client.close()
    stranger = make_pki(data_root / f"pki-other-{uuid.uuid4().hex[:8]}", cn="someone else CA")
    bad = redis_sync.Redis.from_url(rediss.split("?")[0] + f"?ssl_ca_certs={quote(str(stranger.ca))}"
                                    "&ssl_cert_reqs=required")
    try:
        with pytest.raises(redis_sync.ConnectionError, match="certificate verify failed"):
            bad.ping()
    finally:
        bad.close()


async def test_the_api_places_bets_and_moves_money_over_tls_to_both_servers(
        tls_postgres: str, pki: Pki, rediss: str, keys_dir: Path, aiohttp_client: Any) -> None:
    url = verified(tls_postgres, pki.ca)
    query(url, BOOK_SQL)
    for row in PRICES:
        query(url, INSERT_PRICE, row)
    settings = load(RestSettings, {"DATABASE_URL": url, "REDIS_URL": rediss, "AUTH_KEYS_DIR": str(keys_dir)},
                    port=0, api_limit=100_000)
    client = await aiohttp_client(create_app(settings))
    assert (await client.get("/readyz")).status == 200
    ring = KeyRing.load(keys_dir)
    agent = {"Authorization": f"Bearer {ring.sign(access_claims(2, 'agent', None, ttl=600))}"}
    resp = await client.post("/api/v1/agent/cashier/credit", headers={**agent, "Idempotency-Key": "tls-1"},
                             json={"player_id": 10, "amount_cents": 5_000, "type": "deposit", "reason": "tls"})
    assert resp.status == 201, await resp.text()
    player = {"Authorization": f"Bearer {ring.sign(access_claims(10, 'player', 2, ttl=600))}"}
    resp = await client.post("/api/v1/betting/bets", json=straight(1_500), headers={**player, "Idempotency-Key": "b"})
    assert resp.status == 201, await resp.text()
    assert query(url, "SELECT balance_cents, pending_risk_cents FROM users WHERE id = 10") == [(5_000, 1_500)]
    # Every client connection PgBouncer holds for the app is encrypted (SHOW CLIENTS: tls column).
    conn = psycopg2.connect(verified(tls_postgres.rsplit("/", 1)[0] + "/pgbouncer", pki.ca))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW CLIENTS")
            names = [d[0] for d in cur.description or []]
            app = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        conn.close()
    app = [c for c in app if c["database"] == tls_postgres.rsplit("/", 1)[1]]
    assert app and all(c["tls"].startswith("TLSv1.") for c in app), app
