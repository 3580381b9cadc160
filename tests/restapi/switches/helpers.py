"""Helpers of the kill switch tests."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.helpers import wait_for
from tests.restapi.betting.conftest import ADMIN, Book


async def flip(client: TestClient, book: Book, scope: str, target: str = "", suspended: bool = True,
               reason: str = "Feed looks wrong", user: int = ADMIN, role: str = "admin",
               agent_id: int | None = None) -> tuple[int, dict[str, Any]]:
    """PUT switches as ``user``; returns (status, JSON)."""
    resp = await client.put("/api/v1/switches", headers=book.auth(user, role, agent_id),
                            json={"scope": scope, "target": target, "suspended": suspended, "reason": reason})
    return resp.status, await resp.json()


async def active(client: TestClient, book: Book, user: int, role: str = "player",
                 agent_id: int | None = 2) -> list[tuple[str, str]]:
    """(scope, target) of the switches that apply to ``user``, as the API reads them now."""
    resp = await client.get("/api/v1/switches/active", headers=book.auth(user, role, agent_id))
    assert resp.status == 200, await resp.text()
    return [(s["scope"], s["target"]) for s in (await resp.json())["switches"]]


async def wait_active(client: TestClient, book: Book, user: int, expected: list[tuple[str, str]],
                      agent_id: int | None = 2) -> None:
    """Wait (bounded) until the process's board shows exactly ``expected`` for ``user``."""
    async def seen() -> bool:
        return sorted(await active(client, book, user, agent_id=agent_id)) == sorted(expected)
    await wait_for(seen, 5, f"switches {expected}")
