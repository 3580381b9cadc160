"""A streaming replica serves history, reports and catalog reads; read-your-writes; lag; promotion."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from devtools.devservers import EmbeddedPostgres
from devtools.standby import make_standby, promote
from restapi.app import create_app
from restapi.config import RestSettings
from restapi.ledger.verify import verify
from restapi.replica import replica_lag
from shared import migrate
from shared.config import load
from shared.db import create_pool
from shared.tokens import KeyRing, access_claims
from tests.helpers import wait_for
from tests.restapi.betting.conftest import BOOK_SQL, INSERT_PRICE, PRICES, straight
from tests.shared.backup_helpers import query

AGENT = 2


@pytest.fixture
async def pair(data_root: Path) -> Any:
    """A migrated primary with the betting book, and a streaming standby of it."""
    root = data_root / f"replica-{uuid.uuid4().hex[:8]}"
    primary = EmbeddedPostgres(root / "primary", fast=True)
    primary.start()
    standby: EmbeddedPostgres | None = None
    try:
        await migrate.migrate(primary.url)
        query(primary.url, BOOK_SQL)
        for row in PRICES:
            query(primary.url, INSERT_PRICE, row)
        standby = make_standby(primary.url, root / "standby")
        yield primary, standby
    finally:
        if standby is not None:
            standby.stop()
        primary.stop()


def headers(ring: KeyRing, user: int, role: str = "player", key: str | None = None) -> dict[str, str]:
    token = ring.sign(access_claims(user, role, AGENT if role == "player" else None, ttl=600))
    out = {"Authorization": f"Bearer {token}"}
    return {**out, "Idempotency-Key": key} if key else out


async def history_ids(client: Any, ring: KeyRing, user: int) -> list[int]:
    resp = await client.get("/api/v1/betting/bets", headers=headers(ring, user))
    assert resp.status == 200, await resp.text()
    return [b["id"] for b in (await resp.json())["bets"]]


async def test_reads_use_the_replica_and_a_writer_reads_the_primary_for_a_while(
        pair: tuple[EmbeddedPostgres, EmbeddedPostgres], redis_url: str, keys_dir: Path,
        aiohttp_client: Any) -> None:
    primary, standby = pair
    ring = KeyRing.load(keys_dir)
    env = {"DATABASE_URL": primary.url, "DATABASE_REPLICA_URL": standby.url, "REDIS_URL": redis_url,
           "AUTH_KEYS_DIR": str(keys_dir)}
    replica_pool = await create_pool(standby.url, 1, 1)
    try:
        await wait_for(lambda: _caught_up(replica_pool), 30, "the standby to catch up")
        query(standby.url, "SELECT pg_wal_replay_pause()")

        # No stickiness: a bet placed while replay is paused is not in the history read from the replica.
        plain = await aiohttp_client(create_app(load(RestSettings, env, port=0, api_limit=100_000,
                                                     replica_sticky_seconds=0.0)))
        resp = await plain.post("/api/v1/betting/bets", json=straight(1_000), headers=headers(ring, 10, key="a"))
        assert resp.status == 201
        first = (await resp.json())["id"]
        assert await history_ids(plain, ring, 10) == []
        await wait_for(lambda: _behind(replica_pool), 30, "the standby to receive WAL it does not replay")

        # Read-your-writes: with a sticky window the writer reads the primary and sees the bet at once,
        # while another player's reads still come from the (paused) replica.
        sticky = await aiohttp_client(create_app(load(RestSettings, env, port=0, api_limit=100_000,
                                                      replica_sticky_seconds=600.0)))
        resp = await sticky.post("/api/v1/betting/bets", json=straight(2_000), headers=headers(ring, 11, key="b"))
        assert resp.status == 201
        second = (await resp.json())["id"]
        assert await history_ids(sticky, ring, 11) == [second]
        assert await history_ids(sticky, ring, 10) == []

        query(standby.url, "SELECT pg_wal_replay_resume()")
        await wait_for(lambda: _caught_up(replica_pool), 30, "the standby to replay the bets")
        assert await history_ids(plain, ring, 10) == [first]
        assert await replica_lag(replica_pool) == (0.0, 0)
        # Catalog reads come from the replica too.
        resp = await plain.get("/api/v1/betting/events/ev1")
        assert resp.status == 200 and (await resp.json())["home_team"] == "Boston Celtics"
    finally:
        replica_pool.close()
        await replica_pool.wait_closed()


async def _behind(pool: Any) -> bool:
    return (await replica_lag(pool))[1] > 0


async def _caught_up(pool: Any) -> bool:
    return await replica_lag(pool) == (0.0, 0)


async def test_the_services_work_on_the_promoted_standby(
        pair: tuple[EmbeddedPostgres, EmbeddedPostgres], redis_url: str, keys_dir: Path,
        aiohttp_client: Any) -> None:
    primary, standby = pair
    ring = KeyRing.load(keys_dir)
    env = {"DATABASE_URL": primary.url, "REDIS_URL": redis_url, "AUTH_KEYS_DIR": str(keys_dir)}
    old = await aiohttp_client(create_app(load(RestSettings, env, port=0, api_limit=100_000)))
    resp = await old.post("/api/v1/agent/cashier/credit", headers=headers(ring, AGENT, "agent", "c1"),
                          json={"player_id": 10, "amount_cents": 20_000, "type": "deposit", "reason": "before"})
    assert resp.status == 201
    ((lsn,),) = query(primary.url, "SELECT pg_current_wal_lsn()::text")
    await wait_for(lambda: query(standby.url, "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,))[0][0],
                   30, "the standby to replay the credit")
    primary.stop()  # the primary is lost
    promote(standby)

    env["DATABASE_URL"] = standby.url
    new = await aiohttp_client(create_app(load(RestSettings, env, port=0, api_limit=100_000)))
    assert (await new.get("/readyz")).status == 200
    resp = await new.post("/api/v1/betting/bets", json=straight(1_500), headers=headers(ring, 10, key="after"))
    assert resp.status == 201, await resp.text()
    assert query(standby.url, "SELECT balance_cents, pending_risk_cents FROM users WHERE id = 10") == [(20_000, 1_500)]
    pool = await create_pool(standby.url, 1, 1)
    try:
        assert (await verify(pool)).ok
    finally:
        pool.close()
        await pool.wait_closed()
