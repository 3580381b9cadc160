"""Schemathesis over the auth and user part of the OpenAPI spec, against the real server process.

``python -m restapi`` runs on a free port with real PostgreSQL, Redis and SMTP; every operation gets a
few generated requests (valid and not) with a player's, an agent's and an admin's token, and every
answer must be below 500, have a status the spec lists and match the schema the spec declares for
it. Bounded (a handful of examples per operation) to keep it quick.
"""

from __future__ import annotations

from pathlib import Path

import psycopg2

from shared.tokens import KeyRing, access_claims
from tests.restapi.auth.conftest import AGENT_PASSWORD, PLAYER_PASSWORD, password_hash
from tests.restapi.fuzz import ROLES, fuzz, operations

SCOPE = r"^/(api/v1/(auth|user)/|\.well-known/)"


def _seed(dsn: str) -> dict[str, tuple[int, int | None]]:
    """An admin, an agent and its player: role -> (user id, agent id)."""
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("INSERT INTO users (login, email, password_hash, role) VALUES ('agent1', "
                        "'agent1@wagerbabe.test', %s, 'agent') RETURNING id", (password_hash(AGENT_PASSWORD),))
            agent_id = cur.fetchone()[0]
            cur.execute("INSERT INTO users (login, email, password_hash, role, agent_id) VALUES ('player01', "
                        "'player01@wagerbabe.test', %s, 'player', %s) RETURNING id",
                        (password_hash(PLAYER_PASSWORD), agent_id))
            player_id = cur.fetchone()[0]
            cur.execute("INSERT INTO users (login, email, password_hash, role) VALUES ('admin1', "
                        "'admin1@wagerbabe.test', %s, 'admin') RETURNING id", (password_hash(AGENT_PASSWORD),))
            admin_id = cur.fetchone()[0]
            return {"player": (player_id, agent_id), "agent": (agent_id, None), "admin": (admin_id, None)}
    finally:
        conn.close()


def test_auth_and_user_operations_give_no_5xx_no_undocumented_status_and_match_their_schemas(
    restapi_server: str, database_url: str, keys_dir: Path
) -> None:
    server = restapi_server
    users = _seed(database_url)
    ring = KeyRing.load(keys_dir)
    ops = operations(server, SCOPE)
    labels = {op.label for op in ops}
    assert "POST /api/v1/auth/login" in labels and "PUT /api/v1/user/preferences" in labels
    assert len(ops) == 16

    for role in ROLES:
        user_id, agent_id = users[role]
        # A fresh token per request: a generated logout must not starve the operations after it.
        statuses = fuzz(server, ops, lambda _case: ring.sign(access_claims(user_id, role, agent_id, ttl=300)))
        # The run reached the handlers: valid requests succeeded and invalid ones were refused.
        assert 200 in statuses["GET /api/v1/auth/me"] and 200 in statuses["GET /.well-known/jwks.json"], role
        assert any(code >= 400 for codes in statuses.values() for code in codes)
