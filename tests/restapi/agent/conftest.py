"""A small two-book fixture: admin, master agent A with sub-agent A2, agent B, and their players."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiopg
import pytest

from restapi.app import create_app
from restapi.config import RestSettings
from shared.config import load
from shared.tokens import KeyRing, access_claims
from tests.conftest import _admin_exec, with_database

BOOK = """
INSERT INTO users (id, login, email, display_name, phone, role, agent_id, credit_limit_cents) VALUES
  (1, 'admin', 'admin@x.test', 'Admin', NULL, 'admin', NULL, 0),
  (2, 'agenta', 'agenta@x.test', 'Agent A', NULL, 'agent', NULL, 0),
  (3, 'agenta2', 'agenta2@x.test', 'Sub A2', NULL, 'agent', 2, 0),
  (4, 'agentb', 'agentb@x.test', 'Agent B', NULL, 'agent', NULL, 0),
  (10, 'alice', 'alice@x.test', 'Alice Reed', '+1 555 0100', 'player', 2, 50000),
  (11, 'bob', 'bob@x.test', 'Bob Stone', '+1 555 0101', 'player', 2, 20000),
  (12, 'carol', 'carol@x.test', 'Carol Park', NULL, 'player', 3, 10000),
  (20, 'zed', 'zed@x.test', 'Zed Diaz', NULL, 'player', 4, 30000);
SELECT setval('users_id_seq', 100);
"""
# The app's clock in every agent test: a Wednesday afternoon (tests move ``book.now`` as they need).
NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


@dataclass
class Book:
    """A running restapi on the test's database with tokens for each role."""

    client: Any
    dsn: str
    redis_url: str
    tokens: dict[str, str] = field(default_factory=dict)
    now: datetime = NOW

    def auth(self, who: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}", **extra}

    async def get(self, who: str, path: str, **kw: Any) -> tuple[int, Any]:
        resp = await self.client.get(path, headers=self.auth(who), **kw)
        body = await resp.json() if resp.content_type == "application/json" else await resp.text()
        return resp.status, body

    async def post(self, who: str, path: str, json: Any = None, **headers: str) -> tuple[int, Any]:
        resp = await self.client.post(path, json=json, headers=self.auth(who, **headers))
        return resp.status, await resp.json()

    async def patch(self, who: str, path: str, json: Any = None) -> tuple[int, Any]:
        resp = await self.client.patch(path, json=json, headers=self.auth(who))
        return resp.status, await resp.json()

    async def sql(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        async with aiopg.connect(self.dsn) as conn, conn.cursor() as cur:
            await cur.execute(sql, params)
            return list(await cur.fetchall()) if cur.description else []


@pytest.fixture
async def book(aiohttp_client: Any, base_env: dict[str, str], keys_dir: Path,
               database_url: str, redis_url: str) -> AsyncIterator[Book]:
    async with aiopg.connect(database_url) as conn, conn.cursor() as cur:
        await cur.execute(BOOK)
    holder: list[Book] = []
    app = create_app(load(RestSettings, base_env, port=0), clock=lambda: holder[0].now)
    client = await aiohttp_client(app)
    ring = KeyRing.load(keys_dir)
    b = Book(client, database_url, redis_url)
    holder.append(b)
    for name, (uid, role, agent) in {"admin": (1, "admin", None), "a": (2, "agent", None),
                                     "a2": (3, "agent", 2), "b": (4, "agent", None),
                                     "alice": (10, "player", 2), "zed": (20, "player", 4)}.items():
        b.tokens[name] = ring.sign(access_claims(uid, role, agent, ttl=600))
    yield b


@pytest.fixture(scope="module")
def demo_db(pg_server_url: str, template_db: str) -> Iterator[str]:
    """One database per test module holding the demo book seeded at ``helpers.DEMO_NOW`` (read only)."""
    from restapi.seed import seed
    from tests.restapi.agent.helpers import DEMO_NOW

    name = f"wb_demo_{uuid.uuid4().hex[:12]}"
    _admin_exec(pg_server_url, f"CREATE DATABASE {name} TEMPLATE {template_db}")
    url = with_database(pg_server_url, name)
    asyncio.run(seed(url, now=DEMO_NOW))
    yield url
    _admin_exec(pg_server_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
