"""Kill switches through the API: every scope refuses the bets it covers (409 betting_suspended naming
it), a master agent's switch covers its tree only, every change is audited and announced."""

from __future__ import annotations

from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from shared import streams
from tests.helpers import wait_for
from tests.restapi.betting.conftest import (
    ADMIN,
    AGENT,
    OTHER_AGENT,
    OTHER_BOOK_PLAYER,
    PLAYER,
    Book,
    account,
    place,
    sel,
    sql,
    straight,
)
from tests.restapi.switches.conftest import SUB_AGENT, SUB_PLAYER
from tests.restapi.switches.helpers import flip, wait_active

NBA_BET = straight()  # ev1, basketball_nba, h2h, not started
EPL_BET = straight(event="ev3", outcome="Arsenal", price=150)
LIVE_BET = straight(event="live1", outcome="Denver Nuggets", price=-150)
PARLAY = {"type": "parlay", "stake_cents": 1000, "selections": [
    sel("ev1", "spreads", "Boston Celtics", -110, -5.5), sel("ev3", "h2h", "Draw", 220)]}


@pytest.mark.parametrize(("scope", "target", "refused", "allowed"), [
    ("global", "", NBA_BET, None),
    ("sport", "basketball", NBA_BET, EPL_BET),
    ("league", "basketball_nba", NBA_BET, EPL_BET),
    ("event", "ev1", NBA_BET, straight(event="ev2", outcome="Miami Heat", price=-150)),
    ("market", "ev1/h2h", NBA_BET, straight(market="spreads", price=-110, point=-5.5)),
    ("feature", "live_betting", LIVE_BET, NBA_BET),
    ("feature", "parlays", PARLAY, NBA_BET),
])
async def test_a_thrown_switch_refuses_what_it_covers_and_nothing_else(
        client: TestClient, book: Book, scope: str, target: str, refused: dict[str, Any],
        allowed: dict[str, Any] | None) -> None:
    status, switch = await flip(client, book, scope, target, reason="Feed looks wrong")
    assert status == 200, switch
    assert (switch["scope"], switch["target"], switch["suspended"], switch["owner_id"]) == (scope, target, True, None)
    await wait_active(client, book, PLAYER, [(scope, target)])

    status, body = await place(client, book, refused, key="refused")
    assert status == 409, body
    assert body["error"] == "betting_suspended"
    assert body["details"]["scope"] == scope and body["details"]["target"] == target
    assert body["details"]["reason"] == "Feed looks wrong" and "Feed looks wrong" in body["message"]
    assert "_" not in body["message"].replace(target, "")  # plain words, no field names
    assert await account(book.dsn) == (0, 0)  # nothing was booked
    if allowed is not None:
        status, body = await place(client, book, allowed, key="allowed")
        assert status == 201, body

    status, _ = await flip(client, book, scope, target, suspended=False, reason="Feed fixed")
    assert status == 200
    await wait_active(client, book, PLAYER, [])
    status, body = await place(client, book, refused, key="after-release")
    assert status == 201, body


async def test_a_master_agents_switch_covers_its_tree_only(client: TestClient, tree: Book) -> None:
    status, switch = await flip(client, tree, "global", user=AGENT, role="agent", reason="Closing early")
    assert status == 200 and switch["owner_id"] == AGENT
    await wait_active(client, tree, PLAYER, [("global", "")])
    for player, key in ((PLAYER, "a"), (SUB_PLAYER, "b")):  # its own book and its sub-agent's book
        status, body = await place(client, tree, NBA_BET, key=key, user=player)
        assert status == 409 and body["error"] == "betting_suspended" and body["details"]["house"] is False
    status, body = await place(client, tree, NBA_BET, key="c", user=OTHER_BOOK_PLAYER)
    assert status == 201, body  # another master's book bets on


async def test_only_an_admin_or_a_master_agent_flips_switches(client: TestClient, tree: Book) -> None:
    for user, role, agent in ((PLAYER, "player", AGENT), (SUB_AGENT, "agent", AGENT)):
        status, body = await flip(client, tree, "global", user=user, role=role, agent_id=agent)
        assert status == 403 and body["error"] == "wrong_role", body
        resp = await client.get("/api/v1/switches", headers=tree.auth(user, role, agent))
        assert resp.status == 403
    assert await sql(tree.dsn, "SELECT count(*) FROM kill_switches") == [(0,)]
    resp = await client.put("/api/v1/switches", json={"scope": "global", "suspended": True, "reason": "x"})
    assert resp.status == 401


@pytest.mark.parametrize(("body", "field"), [
    ({"scope": "planet", "target": "x", "suspended": True, "reason": "r"}, "scope"),
    ({"scope": "market", "target": "ev1", "suspended": True, "reason": "r"}, "target"),
    ({"scope": "market", "target": "ev1/corners", "suspended": True, "reason": "r"}, "target"),
    ({"scope": "feature", "target": "cashout", "suspended": True, "reason": "r"}, "target"),
    ({"scope": "global", "target": "nba", "suspended": True, "reason": "r"}, "target"),
    ({"scope": "league", "target": "a b", "suspended": True, "reason": "r"}, "target"),
    ({"scope": "league", "target": "basketball_nba", "suspended": True}, "reason"),
    ({"scope": "league", "target": "basketball_nba", "suspended": True, "reason": "  "}, "reason"),
    ({"scope": "league", "target": "basketball_nba", "suspended": "yes", "reason": "r"}, "suspended"),
])
async def test_bad_switch_requests_are_422_naming_the_field(client: TestClient, book: Book, body: dict[str, Any],
                                                            field: str) -> None:
    resp = await client.put("/api/v1/switches", json=body, headers=book.auth(ADMIN, "admin", None))
    got = await resp.json()
    assert resp.status == 422, got
    assert set(got) == {"error", "message", "details"} and field in got["details"]


async def test_every_change_is_audited_and_announced_to_processes_and_sockets(
        client: TestClient, book: Book, redis: aioredis.Redis) -> None:
    async with redis.pubsub() as ps:
        await ps.subscribe("switches")
        await flip(client, book, "league", "basketball_nba", reason="Feed looks wrong")
        await flip(client, book, "league", "basketball_nba", suspended=False, reason="Feed fixed")
        await flip(client, book, "global", user=AGENT, role="agent", reason="Mine")
        messages: list[dict[str, Any]] = []

        async def three() -> bool:
            msg = await ps.get_message(ignore_subscribe_messages=True, timeout=0.1)
            if msg is not None:
                messages.append(msg)
            return len(messages) == 3
        await wait_for(three, 5, "three messages on the switches channel")
    resp = await client.get("/api/v1/switches", headers=book.auth(ADMIN, "admin", None))
    house = await resp.json()
    assert resp.status == 200 and house["owner_id"] is None
    assert [(s["scope"], s["target"], s["suspended"], s["reason"]) for s in house["switches"]] == [
        ("league", "basketball_nba", False, "Feed fixed")]
    assert [(a["suspended"], a["reason"], a["actor_id"]) for a in house["audit"]] == [
        (False, "Feed fixed", ADMIN), (True, "Feed looks wrong", ADMIN)]  # newest first; not the agent's
    assert house["audit"][0]["label"] == "League basketball_nba"
    resp = await client.get("/api/v1/switches", headers=book.auth(AGENT, "agent", None))
    mine = await resp.json()
    assert mine["owner_id"] == AGENT and [a["reason"] for a in mine["audit"]] == ["Mine"]

    entries = [streams.decode_notify(f) for _i, f in await redis.xrange(streams.NOTIFY)]
    changes = [(e["user"], e["kind"], e["data"]["scope"], e["data"]["suspended"]) for e in entries]
    assert changes == [(0, "switches.changed", "league", True), (0, "switches.changed", "league", False),
                       (0, "switches.changed", "global", True)]
    assert [int(m["data"]) for m in messages] == [e["data"]["version"] for e in entries]


async def test_signups_switched_off_answer_409_signups_suspended(client: TestClient, book: Book) -> None:
    body = {"email": "new@wagerbabe.test", "password": "a-long-password-1", "agent": "agent1"}
    await flip(client, book, "feature", "signups", reason="Maintenance")
    await wait_active(client, book, PLAYER, [("feature", "signups")])
    resp = await client.post("/api/v1/auth/signup", json=body)
    got = await resp.json()
    assert resp.status == 409 and got["error"] == "signups_suspended" and "Maintenance" in got["message"]
    await flip(client, book, "feature", "signups", suspended=False, reason="Done")
    await flip(client, book, "feature", "signups", user=OTHER_AGENT, role="agent", reason="Full")
    await wait_active(client, book, OTHER_BOOK_PLAYER, [("feature", "signups")], agent_id=OTHER_AGENT)
    resp = await client.post("/api/v1/auth/signup", json={**body, "agent": "agent9"})
    assert resp.status == 409 and (await resp.json())["details"]["target"] == "signups"
    resp = await client.post("/api/v1/auth/signup", json=body)  # agent1's tree still signs up
    assert resp.status == 201, await resp.text()
