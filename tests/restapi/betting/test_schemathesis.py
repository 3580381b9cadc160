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
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance

from restapi.ledger.verify import verify
from shared.db import create_pool
from shared.tokens import KeyRing, access_claims
from tests.restapi.betting.conftest import AGENT, BOOK_SQL, INSERT_PRICE, PLAYER, PRICES

MAX_EXAMPLES = 12
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


async def _ledger_ok(dsn: str) -> bool:
    pool = await create_pool(dsn)
    try:
        return (await verify(pool)).ok
    finally:
        pool.close()
        await pool.wait_closed()


def test_betting_catalog_and_agent_operations_give_no_5xx_and_match_their_schemas(
    restapi_server: str, database_url: str, keys_dir: Path
) -> None:
    _seed(database_url)
    ring = KeyRing.load(keys_dir)
    schema = schemathesis.openapi.from_url(f"{restapi_server}/docs/openapi.json").include(path_regex=SCOPE)
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {op.label for op in operations}
    assert "POST /api/v1/betting/bets" in labels and "POST /api/v1/betting/events/{event_id}/regrade" in labels
    assert "GET /api/v1/shared/sidebar" in labels and "POST /api/v1/agent/cashier/credit" in labels

    statuses: dict[str, set[int]] = {}
    for op in operations:
        @given(case=op.as_strategy(GenerationMode.POSITIVE) | op.as_strategy(GenerationMode.NEGATIVE))
        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def run(case: schemathesis.Case) -> None:
            agent_route = "regrade" in case.operation.path or case.operation.path.startswith("/api/v1/agent/")
            claims = access_claims(AGENT, "agent", None, ttl=300) if agent_route else access_claims(
                PLAYER, "player", AGENT, ttl=300)
            response = case.call_and_validate(base_url=restapi_server,
                                              headers={"Authorization": f"Bearer {ring.sign(claims)}"},
                                              checks=[not_a_server_error, response_schema_conformance])
            statuses.setdefault(case.operation.label, set()).add(response.status_code)

        run()
    assert 200 in statuses["GET /api/v1/betting/slip"] and 200 in statuses["GET /api/v1/shared/sidebar"]
    assert 200 in statuses["GET /api/v1/agent/clients"]
    assert any(code >= 400 for codes in statuses.values() for code in codes)
    assert all(code < 500 for codes in statuses.values() for code in codes)
    assert asyncio.run(_ledger_ok(database_url))
