"""Schemathesis over the betting, catalog, agent and dashboard parts of the OpenAPI spec, against the real
server process.

``python -m restapi`` runs on a free port with real PostgreSQL and Redis over the betting tests' book;
each operation gets a few generated requests, valid and schema-breaking, with a player's, an agent's
and an admin's token. Every answer must be below 500, have a status the spec lists for the operation
and match the schema the spec declares for it; nothing may be booked wrongly meanwhile (the ledger
verifies afterwards). With the auth/user module this covers every operation of the spec.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg2
import schemathesis

from shared.tokens import KeyRing, access_claims
from tests.restapi.betting.conftest import ADMIN, AGENT, BOOK_SQL, INSERT_PRICE, PLAYER, PRICES, chain_verified
from tests.restapi.fuzz import ROLES, fuzz, operations

SCOPE = r"^/api/v1/(betting/|shared/|agent/|switches|dashboard$)"
OTHER_SCOPE = r"^/(api/v1/(auth|user)/|\.well-known/)"  # tests/restapi/auth/test_schemathesis.py


def _seed(dsn: str) -> None:
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(BOOK_SQL)
            for row in PRICES:
                cur.execute(INSERT_PRICE, row)
    finally:
        conn.close()


def test_betting_catalog_agent_and_dashboard_operations_give_no_5xx_no_undocumented_status_and_match_schemas(
    restapi_server: str, database_url: str, keys_dir: Path
) -> None:
    _seed(database_url)
    ring = KeyRing.load(keys_dir)
    ops = operations(restapi_server, SCOPE)
    labels = {op.label for op in ops}
    assert "POST /api/v1/betting/bets" in labels and "POST /api/v1/betting/events/{event_id}/regrade" in labels
    assert "GET /api/v1/shared/sidebar" in labels and "POST /api/v1/agent/cashier/credit" in labels
    assert "GET /api/v1/dashboard" in labels
    # The two fuzzing modules together cover every operation of the spec.
    everything = {op.label for op in operations(restapi_server, ".*")}
    assert everything == labels | {op.label for op in operations(restapi_server, OTHER_SCOPE)}

    claims = {"player": (PLAYER, AGENT), "agent": (AGENT, None), "admin": (ADMIN, None)}
    for role in ROLES:
        user_id, agent_id = claims[role]

        def token_for(_case: schemathesis.Case, user_id: int = user_id, role: str = role,
                      agent_id: int | None = agent_id) -> str:
            return ring.sign(access_claims(user_id, role, agent_id, ttl=300))

        statuses = fuzz(restapi_server, ops, token_for)
        assert 200 in statuses["GET /api/v1/shared/sidebar"], role
        if role == "player":
            assert 200 in statuses["GET /api/v1/betting/slip"]
            assert 403 in statuses["GET /api/v1/agent/clients"]  # players are refused the agent hub
        else:
            assert 200 in statuses["GET /api/v1/agent/clients"]
        assert any(code >= 400 for codes in statuses.values() for code in codes)
    assert asyncio.run(chain_verified(database_url))
