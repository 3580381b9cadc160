"""Schemathesis over the betting, catalog and agent parts of the OpenAPI spec, against the real server process.

``python -m restapi`` runs on a free port with real PostgreSQL and Redis over the betting tests' book;
each operation gets a few generated requests, valid and schema-breaking, with a player's token (an
agent's for the agent hub and the regrade routes). Every answer must be below 500 and match the schema the spec
declares for its status; nothing may be booked wrongly meanwhile (the ledger verifies afterwards).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg2
import schemathesis

from shared.tokens import KeyRing, access_claims
from tests.restapi.betting.conftest import AGENT, BOOK_SQL, INSERT_PRICE, PLAYER, PRICES, chain_verified
from tests.restapi.fuzz import fuzz, operations

SCOPE = r"^/api/v1/(betting|shared|agent)/"


def _seed(dsn: str) -> None:
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(BOOK_SQL)
            for row in PRICES:
                cur.execute(INSERT_PRICE, row)
    finally:
        conn.close()


def test_betting_catalog_and_agent_operations_give_no_5xx_and_match_their_schemas(
    restapi_server: str, database_url: str, keys_dir: Path
) -> None:
    _seed(database_url)
    ring = KeyRing.load(keys_dir)
    ops = operations(restapi_server, SCOPE)
    labels = {op.label for op in ops}
    assert "POST /api/v1/betting/bets" in labels and "POST /api/v1/betting/events/{event_id}/regrade" in labels
    assert "GET /api/v1/shared/sidebar" in labels and "POST /api/v1/agent/cashier/credit" in labels

    def token_for(case: schemathesis.Case) -> str:
        agent_route = "regrade" in case.operation.path or case.operation.path.startswith("/api/v1/agent/")
        claims = (access_claims(AGENT, "agent", None, ttl=300) if agent_route
                  else access_claims(PLAYER, "player", AGENT, ttl=300))
        return ring.sign(claims)

    statuses = fuzz(restapi_server, ops, token_for)
    assert 200 in statuses["GET /api/v1/betting/slip"] and 200 in statuses["GET /api/v1/shared/sidebar"]
    assert 200 in statuses["GET /api/v1/agent/clients"]
    assert any(code >= 400 for codes in statuses.values() for code in codes)
    assert asyncio.run(chain_verified(database_url))
