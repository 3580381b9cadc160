"""Schemathesis over the auth and user part of the OpenAPI spec, against the real server process.

``python -m restapi`` runs on a free port with real PostgreSQL, Redis and SMTP; every operation gets a
few generated requests (valid and not), and every answer must be below 500 and match the schema
the spec declares for its status. Bounded (a handful of examples per operation) to keep it quick.
"""

from __future__ import annotations

from pathlib import Path

import psycopg2

from shared.tokens import KeyRing, access_claims
from tests.restapi.auth.conftest import AGENT_PASSWORD, PLAYER_PASSWORD, password_hash
from tests.restapi.fuzz import fuzz, operations

SCOPE = r"^/(api/v1/(auth|user)/|\.well-known/)"


def _seed(dsn: str) -> int:
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("INSERT INTO users (login, email, password_hash, role) VALUES ('agent1', "
                        "'agent1@wagerbabe.test', %s, 'agent') RETURNING id", (password_hash(AGENT_PASSWORD),))
            agent_id = cur.fetchone()[0]
            cur.execute("INSERT INTO users (login, email, password_hash, role, agent_id) VALUES ('player01', "
                        "'player01@wagerbabe.test', %s, 'player', %s) RETURNING id",
                        (password_hash(PLAYER_PASSWORD), agent_id))
            return int(cur.fetchone()[0])
    finally:
        conn.close()


def test_auth_and_user_operations_give_no_5xx_and_match_their_schemas(
    restapi_server: str, database_url: str, keys_dir: Path
) -> None:
    server = restapi_server
    player_id = _seed(database_url)
    ring = KeyRing.load(keys_dir)
    ops = operations(server, SCOPE)
    labels = {op.label for op in ops}
    assert "POST /api/v1/auth/login" in labels and "PUT /api/v1/user/preferences" in labels
    assert len(ops) == 16

    # A fresh token per request: a generated logout must not starve the operations after it.
    statuses = fuzz(server, ops, lambda _case: ring.sign(access_claims(player_id, "player", None, ttl=300)))
    # The run reached the handlers: valid requests succeeded and invalid ones were refused.
    assert 200 in statuses["GET /api/v1/auth/me"] and 200 in statuses["GET /.well-known/jwks.json"]
    assert any(code >= 400 for codes in statuses.values() for code in codes)
