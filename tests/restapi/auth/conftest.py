"""Fixtures of the auth and user tests: the real app on a real port, demo users, a real SMTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiopg
import bcrypt
import pytest
from aiohttp.test_utils import TestClient

from restapi.app import create_app
from restapi.config import RestSettings
from shared.config import load
from tests.helpers import Inbox

PLAYER_PASSWORD = "player-pass-123"
AGENT_PASSWORD = "agent-pass-123"
PUBLIC_URL = "https://book.wagerbabe.test"
_HASHES: dict[str, str] = {}


def password_hash(password: str) -> str:
    """bcrypt cost 12 hashes, made once per session (each costs ~0.25 s)."""
    if password not in _HASHES:
        _HASHES[password] = bcrypt.hashpw(password.encode(), bcrypt.gensalt(12)).decode()
    return _HASHES[password]


@pytest.fixture
def auth_env(base_env: dict[str, str], smtp: tuple[Inbox, int]) -> dict[str, str]:
    """Environment of an app that mails through the test SMTP server and allows one CORS origin."""
    return {**base_env, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp[1]),
            "MAIL_FROM": "WagerBabe <no-reply@wagerbabe.test>", "CORS_ORIGINS": "https://app.wagerbabe.test",
            "RESTAPI_PUBLIC_URL": PUBLIC_URL}


async def add_user(dsn: str, login: str, role: str = "player", agent: str | None = "agent1",
                   password: str = PLAYER_PASSWORD, status: str = "active") -> int:
    """Insert a user (email ``<login>@wagerbabe.test``) and return its id."""
    async with aiopg.connect(dsn) as conn, conn.cursor() as cur:
        await cur.execute(
            "INSERT INTO users (login, email, password_hash, display_name, role, agent_id, status) "
            "VALUES (%(login)s, %(email)s, %(hash)s, %(login)s, %(role)s, "
            "(SELECT id FROM users WHERE login = %(agent)s), %(status)s) RETURNING id",
            {"login": login, "email": f"{login}@wagerbabe.test", "hash": password_hash(password), "role": role,
             "agent": agent, "status": status})
        row = await cur.fetchone()
        return int(row[0])


async def sql(dsn: str, query: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """Run one statement and return its rows (empty for statements without rows)."""
    async with aiopg.connect(dsn) as conn, conn.cursor() as cur:
        await cur.execute(query, params)
        return list(await cur.fetchall()) if cur.description else []


@pytest.fixture
async def users(database_url: str) -> dict[str, int]:
    """The demo book's shape in small: agent1 with players player01 and player02."""
    ids = {"agent1": await add_user(database_url, "agent1", "agent", None, AGENT_PASSWORD)}
    for login in ("player01", "player02"):
        ids[login] = await add_user(database_url, login)
    return ids


async def make_client(aiohttp_client: Any, env: dict[str, str], **over: Any) -> TestClient:
    """The real restapi app served on a free port, with settings overrides."""
    return await aiohttp_client(create_app(load(RestSettings, env, port=0, **over)))  # type: ignore[no-any-return]


@pytest.fixture
async def client(aiohttp_client: Any, auth_env: dict[str, str], users: dict[str, int]) -> AsyncIterator[TestClient]:
    """A client of the real app with the small demo book loaded."""
    yield await make_client(aiohttp_client, auth_env)


async def login(client: TestClient, who: str = "player01", password: str = PLAYER_PASSWORD,
                device: str = "test", **headers: str) -> dict[str, Any]:
    """Log in and return the token answer (asserting success)."""
    resp = await client.post("/api/v1/auth/login", json={"login": who, "password": password, "device": device},
                             headers=headers)
    body: dict[str, Any] = await resp.json()
    assert resp.status == 200, body
    return body


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    """The Authorization header of a token answer."""
    return {"Authorization": f"Bearer {tokens['access_token']}"}
