"""Kill switches across real restapi processes: a switch thrown through one holds on the other, by the
Redis wake-up and, without it, by the poll of PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp

from tests.helpers import wait_for
from tests.restapi.betting.conftest import ADMIN, PLAYER, Book, sql, straight

NBA_BET = straight()


async def _active(session: aiohttp.ClientSession, base: str, book: Book) -> list[tuple[str, str]]:
    async with session.get(f"{base}/api/v1/switches/active", headers=book.auth()) as resp:
        assert resp.status == 200
        return [(s["scope"], s["target"]) for s in (await resp.json())["switches"]]


async def _place(session: aiohttp.ClientSession, base: str, book: Book, key: str) -> tuple[int, dict[str, Any]]:
    async with session.post(f"{base}/api/v1/betting/bets", json=NBA_BET,
                            headers={**book.auth(PLAYER), "Idempotency-Key": key}) as resp:
        return resp.status, await resp.json()


async def test_a_switch_thrown_on_one_process_holds_on_the_other(start_restapi: Callable[..., str],
                                                                 book: Book) -> None:
    first, second = start_restapi(), start_restapi()
    async with aiohttp.ClientSession() as session:
        status, body = await _place(session, second, book, "before")
        assert status == 201, body
        async with session.put(f"{first}/api/v1/switches", headers=book.auth(ADMIN, "admin", None),
                               json={"scope": "league", "target": "basketball_nba", "suspended": True,
                                     "reason": "Feed looks wrong"}) as resp:
            assert resp.status == 200, await resp.text()

        async def second_sees_it() -> bool:
            return await _active(session, second, book) == [("league", "basketball_nba")]
        await wait_for(second_sees_it, 5, "the switch on the second process")
        status, body = await _place(session, second, book, "during")
        assert status == 409 and body["error"] == "betting_suspended", body
        assert body["details"]["scope"] == "league"

        async with session.put(f"{second}/api/v1/switches", headers=book.auth(ADMIN, "admin", None),
                               json={"scope": "league", "target": "basketball_nba", "suspended": False,
                                     "reason": "Feed fixed"}) as resp:
            assert resp.status == 200

        async def first_sees_release() -> bool:
            return await _active(session, first, book) == []
        await wait_for(first_sees_release, 5, "the release on the first process")
        status, body = await _place(session, first, book, "after")
        assert status == 201, body


async def test_a_switch_written_without_a_redis_wake_up_is_picked_up_by_the_poll(
        start_restapi: Callable[..., str], book: Book) -> None:
    """A change whose PUBLISH was lost (here: written straight to PostgreSQL) still reaches every process."""
    bases = [start_restapi(), start_restapi()]
    await sql(book.dsn, """
        WITH s AS (INSERT INTO kill_switches (owner_id, scope, target, suspended, reason, changed_by, changed_at)
                   VALUES (NULL, 'global', '', true, 'Redis is down', 1, now()) RETURNING *)
        INSERT INTO kill_switch_audit (switch_id, owner_id, scope, target, suspended, reason, actor_id, at)
        SELECT id, owner_id, scope, target, suspended, reason, changed_by, changed_at FROM s""")
    async with aiohttp.ClientSession() as session:
        for n, base in enumerate(bases):
            async def sees_it(base: str = base) -> bool:
                return await _active(session, base, book) == [("global", "")]
            await wait_for(sees_it, 5, f"the switch on process {n}")
            status, body = await _place(session, base, book, f"k{n}")
            assert status == 409 and body["details"]["scope"] == "global", body
