"""Bet placement, the cashier and grading through PgBouncer in transaction mode, on 3 server connections."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
import redis.asyncio as aioredis

from devtools.pgbouncer import PgBouncer
from restapi.app import create_app
from restapi.betting.settlement import grade_event
from restapi.config import RestSettings
from restapi.ledger.verify import verify
from shared.config import load
from shared.db import create_pool
from shared.tokens import KeyRing, access_claims
from tests.restapi.betting.conftest import BOOK_SQL, INSERT_PRICE, PRICES, straight
from tests.shared.backup_helpers import query

AGENT, PLAYERS, POOL = 2, (10, 11), 3


@pytest.fixture
def bouncer(data_root: Path, pg_server_url: str) -> Iterator[PgBouncer]:
    """PgBouncer in transaction mode with 3 server connections in front of the session's PostgreSQL."""
    server = PgBouncer(data_root / f"pgbouncer-{uuid.uuid4().hex[:8]}", pg_server_url, pool_size=POOL)
    server.start()
    yield server
    server.stop()


def admin(bouncer: PgBouncer, what: str) -> list[dict[str, Any]]:
    """Rows of ``SHOW <what>`` on PgBouncer's admin console."""
    conn = psycopg2.connect(host="127.0.0.1", port=bouncer.port, user="postgres", dbname="pgbouncer")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(f"SHOW {what}")
            names = [d[0] for d in cur.description or []]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        conn.close()


async def test_bets_cashier_and_grading_go_through_pgbouncer_in_transaction_mode(
        bouncer: PgBouncer, database_url: str, redis_url: str, keys_dir: Path, aiohttp_client: Any) -> None:
    query(database_url, BOOK_SQL)
    for row in PRICES:
        query(database_url, INSERT_PRICE, row)
    pooled = bouncer.url_for(database_url)
    assert query(pooled, "SHOW statement_timeout") == [("30s",)]  # set per server connection by PgBouncer
    settings = load(RestSettings, {"DATABASE_URL": pooled, "REDIS_URL": redis_url, "AUTH_KEYS_DIR": str(keys_dir)},
                    port=0, api_limit=100_000, pg_pool_max=20)
    client = await aiohttp_client(create_app(settings))
    ring = KeyRing.load(keys_dir)
    agent = {"Authorization": f"Bearer {ring.sign(access_claims(AGENT, 'agent', None, ttl=600))}"}

    async def credit(player: int, n: int) -> int:
        resp = await client.post("/api/v1/agent/cashier/credit", headers={**agent, "Idempotency-Key": f"c{player}-{n}"},
                                 json={"player_id": player, "amount_cents": 10_000, "type": "deposit",
                                       "reason": "pooled"})
        return resp.status

    async def bet(player: int, n: int) -> dict[str, Any]:
        auth = {"Authorization": f"Bearer {ring.sign(access_claims(player, 'player', AGENT, ttl=600))}"}
        resp = await client.post("/api/v1/betting/bets", json=straight(1_000 + n, outcome="Los Angeles Lakers",
                                                                        price=130),
                                 headers={**auth, "Idempotency-Key": f"b{player}-{n}"})
        assert resp.status == 201, await resp.text()
        return dict(await resp.json())

    assert set(await asyncio.gather(*(credit(p, n) for p in PLAYERS for n in range(10)))) == {201}
    placed = await asyncio.gather(*(bet(p, n) for p in PLAYERS for n in range(15)))
    assert len({b["id"] for b in placed}) == 30

    # More clients than server connections were open at once: PgBouncer shared 3 among them.
    clients = [c for c in admin(bouncer, "CLIENTS") if c["database"] == database_url.rsplit("/", 1)[1]]
    servers = [s for s in admin(bouncer, "SERVERS") if s["database"] == database_url.rsplit("/", 1)[1]]
    assert len(clients) > POOL and 0 < len(servers) <= POOL

    pool = await create_pool(pooled, 1, 5)
    redis = aioredis.Redis.from_url(redis_url)
    try:
        settled = await grade_event(pool, redis, "ev1", "final", 100, 110)  # the Lakers (away) win
    finally:
        await redis.aclose()
        pool.close()
        await pool.wait_closed()
    assert len(settled) == 30 and {s.status for s in settled} == {"won"}

    assert {s.bet_id: s.payout_cents for s in settled} == {b["id"]: b["potential_payout_cents"] for b in placed}
    for user_id, balance, risk in query(database_url, "SELECT id, balance_cents, pending_risk_cents FROM users "
                                                      "WHERE id IN (10, 11)"):
        won = sum(s.payout_cents - s.stake_cents for s in settled if s.user_id == user_id)
        assert (balance, risk) == (100_000 + won, 0)
    direct = await create_pool(database_url, 1, 1)
    try:
        assert (await verify(direct)).ok
    finally:
        direct.close()
        await direct.wait_closed()
