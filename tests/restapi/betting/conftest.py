"""Fixtures of the betting tests: a small book and catalog inserted with SQL, the real app, signed tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiopg
import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from restapi.app import create_app
from restapi.config import RestSettings
from restapi.ledger.verify import verify
from shared.config import load
from shared.db import create_pool
from shared.tokens import KeyRing, access_claims

BOOK_SQL = """
INSERT INTO users (id, login, role, agent_id, credit_limit_cents) VALUES
  (1, 'admin', 'admin', NULL, 0),
  (2, 'agent1', 'agent', NULL, 0),
  (3, 'agent9', 'agent', NULL, 0),
  (10, 'p1', 'player', 2, 100000),
  (11, 'p2', 'player', 2, 100000),
  (12, 'p3', 'player', 3, 100000);
SELECT setval('users_id_seq', 100);
INSERT INTO sports (key, title, american) VALUES ('basketball', 'Basketball', true), ('soccer', 'Soccer', false);
INSERT INTO leagues (key, sport, title) VALUES ('basketball_nba', 'basketball', 'NBA'), ('soccer_epl', 'soccer', 'EPL');
INSERT INTO books (key, title) VALUES ('draftkings', 'DraftKings'), ('fanduel', 'FanDuel');
INSERT INTO events (id, sport, league, home_team, away_team, commence_time, status) VALUES
  ('ev1', 'basketball', 'basketball_nba', 'Boston Celtics', 'Los Angeles Lakers', now() + interval '1 day',
   'scheduled'),
  ('ev2', 'basketball', 'basketball_nba', 'Miami Heat', 'Chicago Bulls', now() + interval '2 hours', 'upcoming'),
  ('ev3', 'soccer', 'soccer_epl', 'Arsenal', 'Chelsea', now() + interval '1 day', 'scheduled'),
  ('live1', 'basketball', 'basketball_nba', 'Denver Nuggets', 'Utah Jazz', now() - interval '1 hour', 'live');
INSERT INTO markets (event_id, market, live_bettable)
SELECT e.id, m.market, m.market = 'h2h' FROM events e, (VALUES ('h2h'), ('spreads'), ('totals')) AS m (market);
"""

# (event, book, market, outcome, price, point)
PRICES: list[tuple[str, str, str, str, int, float | None]] = []
for _ev, _home, _away in (("ev1", "Boston Celtics", "Los Angeles Lakers"), ("ev2", "Miami Heat", "Chicago Bulls"),
                          ("live1", "Denver Nuggets", "Utah Jazz")):
    PRICES += [
        (_ev, "draftkings", "h2h", _home, -150, None), (_ev, "draftkings", "h2h", _away, 130, None),
        (_ev, "fanduel", "h2h", _home, -140, None), (_ev, "fanduel", "h2h", _away, 120, None),
        (_ev, "draftkings", "spreads", _home, -110, -5.5), (_ev, "draftkings", "spreads", _away, -110, 5.5),
        (_ev, "fanduel", "spreads", _home, -105, -5.5), (_ev, "fanduel", "spreads", _away, -115, 5.5),
        (_ev, "draftkings", "totals", "Over", -110, 221.5), (_ev, "draftkings", "totals", "Under", -110, 221.5),
    ]
PRICES += [("ev3", "draftkings", "h2h", "Arsenal", 150, None), ("ev3", "draftkings", "h2h", "Chelsea", 200, None),
           ("ev3", "draftkings", "h2h", "Draw", 220, None)]

INSERT_PRICE = """
INSERT INTO odds (event_id, book, market, outcome, price, point, last_update)
VALUES (%s, %s, %s, %s, %s, %s, now())
ON CONFLICT (event_id, book, market, outcome) DO UPDATE SET price = EXCLUDED.price, point = EXCLUDED.point,
                                                            last_update = now()
"""

PLAYER, PLAYER2, OTHER_BOOK_PLAYER, AGENT, OTHER_AGENT, ADMIN = 10, 11, 12, 2, 3, 1


async def sql(dsn: str, query: str, params: Any = None) -> list[tuple[Any, ...]]:
    """Run one statement (autocommit) and return its rows."""
    async with aiopg.connect(dsn) as conn, conn.cursor() as cur:
        await cur.execute(query, params)
        return list(await cur.fetchall()) if cur.description else []


async def finished(book: Book, event: str, home: int, away: int) -> None:
    """Mark ``event`` final in the catalog with its score, as ingest does when the result arrives."""
    await sql(book.dsn, "UPDATE events SET status = 'final', home_score = %s, away_score = %s, completed_at = now(),"
                        " commence_time = least(commence_time, now()) WHERE id = %s", (home, away, event))


async def set_price(dsn: str, event: str, book: str, market: str, outcome: str, price: int | None,
                    point: float | None = None) -> None:
    """Move a price on the board (None takes it off the board)."""
    if price is None:
        await sql(dsn, "DELETE FROM odds WHERE event_id = %s AND book = %s AND market = %s AND outcome = %s",
                  (event, book, market, outcome))
    else:
        await sql(dsn, INSERT_PRICE, (event, book, market, outcome, price, point))


@dataclass
class Book:
    """The test book: the database URL, Redis URL and how to sign tokens."""

    dsn: str
    redis_url: str
    ring: KeyRing

    def token(self, user_id: int, role: str = "player", agent_id: int | None = AGENT) -> str:
        return self.ring.sign(access_claims(user_id, role, agent_id, ttl=600))

    def auth(self, user_id: int = PLAYER, role: str = "player", agent_id: int | None = AGENT) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user_id, role, agent_id)}"}


@pytest.fixture
async def book(database_url: str, redis_url: str, keys_dir: Path) -> Book:
    """Users, a catalog and prices (see BOOK_SQL and PRICES)."""
    async with aiopg.connect(database_url) as conn, conn.cursor() as cur:
        await cur.execute(BOOK_SQL)
        for row in PRICES:
            await cur.execute(INSERT_PRICE, row)
    return Book(database_url, redis_url, KeyRing.load(keys_dir))


@pytest.fixture
def settings(base_env: dict[str, str]) -> RestSettings:
    """App settings with a rate limit high enough for the concurrency tests."""
    return load(RestSettings, base_env, port=0, api_limit=100_000, pg_pool_max=20)


@pytest.fixture
async def client(aiohttp_client: Any, settings: RestSettings, book: Book) -> TestClient:
    """The real restapi app on a free port."""
    return await aiohttp_client(create_app(settings))  # type: ignore[no-any-return]


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A client of the test's Redis database."""
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


def sel(event: str = "ev1", market: str = "h2h", outcome: str = "Boston Celtics", price: int | None = -150,
        point: float | None = None, book: str | None = "draftkings") -> dict[str, Any]:
    """A selection body."""
    out: dict[str, Any] = {"event_id": event, "market": market, "outcome": outcome, "point": point}
    if price is not None:
        out["price"] = price
    if book is not None:
        out["book"] = book
    return out


async def place(client: TestClient, book: Book, body: dict[str, Any], key: str = "k1",
                user: int = PLAYER) -> tuple[int, dict[str, Any]]:
    """POST betting/bets; returns (status, JSON)."""
    resp = await client.post("/api/v1/betting/bets", json=body, headers={**book.auth(user), "Idempotency-Key": key})
    return resp.status, await resp.json()


def straight(stake: int = 1000, **kw: Any) -> dict[str, Any]:
    """A straight bet body."""
    return {"type": "straight", "stake_cents": stake, "selections": [sel(**kw)]}


async def account(dsn: str, user_id: int = PLAYER) -> tuple[int, int]:
    """(balance_cents, pending_risk_cents) of an account."""
    rows = await sql(dsn, "SELECT balance_cents, pending_risk_cents FROM users WHERE id = %s", (user_id,))
    return int(rows[0][0]), int(rows[0][1])


async def ledger_sums(dsn: str, user_id: int = PLAYER) -> tuple[int, int]:
    """(sum of amounts, sum of risk) over an account's ledger entries."""
    rows = await sql(dsn, "SELECT COALESCE(sum(amount_cents), 0), COALESCE(sum(risk_cents), 0) FROM ledger_entries "
                          "WHERE account_id = %s", (user_id,))
    return int(rows[0][0]), int(rows[0][1])


async def chain_verified(dsn: str) -> bool:
    """Does ``python -m restapi.ledger verify`` find every hash chain and account row intact?"""
    pool = await create_pool(dsn)
    try:
        return (await verify(pool)).ok
    finally:
        pool.close()
        await pool.wait_closed()
