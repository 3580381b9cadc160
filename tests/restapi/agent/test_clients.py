"""Customers: create, list (search, filters, sort, cursor), detail, update, (de)activate, scoping, audit."""

from __future__ import annotations

import orjson
import redis.asyncio as aioredis

from shared import streams
from tests.restapi.agent.conftest import Book

C = "/api/v1/agent/clients"


async def test_agent_creates_a_customer_with_limits_and_it_is_audited(book: Book) -> None:
    status, body = await book.post("a", C, {
        "login": "NewGuy", "password": "s3cret-pass", "email": "New@X.test", "display_name": "New Guy",
        "credit_limit_cents": 25000, "max_wager_cents": 5000, "min_wager_cents": 100,
        "sport_limits": {"basketball_nba": 2000}})
    assert status == 201, body
    assert body["login"] == "newguy" and body["email"] == "new@x.test" and body["agent_id"] == 2
    assert body["sport_limits"] == {"basketball_nba": 2000} and body["available_cents"] == 25000
    assert body["audit"][0]["action"] == "customer.create" and body["audit"][0]["actor_id"] == 2
    assert body["invite"] is False
    (hashed,) = (await book.sql("SELECT password_hash FROM users WHERE login = 'newguy'"))[0]
    assert hashed.startswith("$2b$12$")
    status, body = await book.post("a", C, {"login": "newguy", "password": "another-pass"})
    assert status == 409 and body["error"] == "login_taken"
    # Under a sub-agent of A: fine; under agent B: not in A's tree.
    status, body = await book.post("a", C, {"login": "subguy", "agent_id": 3})
    assert status == 201 and body["agent_id"] == 3 and body["invite"] is True
    status, body = await book.post("a", C, {"login": "sneaky", "agent_id": 4})
    assert status == 404 and body["error"] == "agent_not_found"


async def test_create_rejects_bad_input_with_422(book: Book) -> None:
    for payload, field in [
        ({"login": "x"}, "login"),
        ({"login": "okname", "password": "p" * 73}, "password"),
        ({"login": "okname", "credit_limit_cents": -1}, "credit_limit_cents"),
        ({"login": "okname", "credit_limit_cents": 10.5}, "credit_limit_cents"),
        ({"login": "okname", "min_wager_cents": 500, "max_wager_cents": 100}, "min_wager_cents"),
        ({"login": "okname", "sport_limits": {"NBA!": 5}}, "sport_limits"),
        ({"login": "okname", "display_name": "Al\x00ice"}, "display_name"),  # PostgreSQL cannot store NUL
        ({"login": "okname", "password": "pass\x00word"}, "password"),
    ]:
        status, body = await book.post("a", C, payload)
        assert status == 422, payload
        assert body["error"] == "validation_error" and field in body["details"], body
    status, body = await book.get("a", C, params={"q": "al\x00"})
    assert (status, body["error"]) == (422, "validation_error") and "q" in body["details"]
    resp = await book.client.post(C, data=b"{not json", headers=book.auth("a", **{"Content-Type":
                                                                                   "application/json"}))
    assert resp.status in (400, 422) and "error" in await resp.json()


async def test_players_and_anonymous_callers_are_refused(book: Book) -> None:
    status, body = await book.get("alice", C)
    assert status == 403 and body["error"] == "wrong_role"
    resp = await book.client.get(C)
    assert resp.status == 401


async def test_list_search_filters_sort_and_cursor(book: Book) -> None:
    status, body = await book.get("a", C)
    assert status == 200 and [c["login"] for c in body["items"]] == ["alice", "bob", "carol"]
    status, body = await book.get("a2", C)
    assert [c["login"] for c in body["items"]] == ["carol"]
    status, body = await book.get("b", C)
    assert [c["login"] for c in body["items"]] == ["zed"]
    status, body = await book.get("admin", C)
    assert [c["login"] for c in body["items"]] == ["alice", "bob", "carol", "zed"]
    for query, expected in [
        ({"q": "stone"}, ["bob"]), ({"q": "555 0100"}, ["alice"]), ({"q": "%"}, []),
        ({"q": "ALICE@x"}, ["alice"]), ({"agent_id": "3"}, ["carol"]),
    ]:
        status, body = await book.get("a", C, params=query)
        assert status == 200 and [c["login"] for c in body["items"]] == expected, query
    # A zone offset PostgreSQL would refuse (over 16 h) is applied before the query; a date that
    # leaves the calendar once applied is a 422.
    status, body = await book.get("a", C, params={"active_since": "2026-01-01T00:00:00-19:14"})
    assert status == 200, body
    status, body = await book.get("a", C, params={"active_since": "0001-01-01T01:00:00+05:00"})
    assert (status, body["error"]) == (422, "validation_error")
    await book.sql("UPDATE users SET balance_cents = 500, ledger_seq = 0 WHERE id = 11")
    await book.sql("UPDATE users SET status = 'inactive' WHERE id = 12")
    status, body = await book.get("a", C, params={"balance_above": "0"})
    assert [c["login"] for c in body["items"]] == ["bob"]
    status, body = await book.get("a", C, params={"balance_below": "1"})
    assert [c["login"] for c in body["items"]] == ["alice", "carol"]
    status, body = await book.get("a", C, params={"status": "inactive"})
    assert [c["login"] for c in body["items"]] == ["carol"]
    status, body = await book.get("a", C, params={"sort": "balance", "order": "desc"})
    assert [c["login"] for c in body["items"]] == ["bob", "carol", "alice"]
    pages, cursor = [], None
    while True:
        params = {"limit": "1", "sort": "balance", "order": "desc"} | ({"cursor": cursor} if cursor else {})
        status, body = await book.get("a", C, params=params)
        pages += [c["login"] for c in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == ["bob", "carol", "alice"]
    for bad in ({"cursor": "garbage"}, {"sort": "password"}, {"limit": "0"}, {"balance_above": "1.5"}):
        status, body = await book.get("a", C, params=bad)
        assert status == 422, bad


async def test_detail_and_update_are_scoped_to_the_agents_tree(book: Book) -> None:
    status, body = await book.get("a", C + "/12")
    assert status == 200 and body["login"] == "carol" and body["week"]["figure_cents"] == 0
    for who, path in [("b", C + "/10"), ("a2", C + "/10"), ("a", C + "/20"), ("a", C + "/1"), ("a", C + "/x")]:
        status, body = await book.get(who, path)
        assert status == 404 and body["error"] in ("customer_not_found", "not_found"), (who, path)
    status, body = await book.patch("b", C + "/10", {"notes": "mine now"})
    assert status == 404
    status, body = await book.post("b", C + "/10/deactivate")
    assert status == 404


async def test_update_audits_before_and_after(book: Book) -> None:
    status, body = await book.patch("a", C + "/10", {"credit_limit_cents": 70000, "notes": "VIP",
                                                     "sport_limits": {"soccer_epl": 1000}})
    assert status == 200, body
    assert body["credit_limit_cents"] == 70000 and body["notes"] == "VIP"
    assert body["sport_limits"] == {"soccer_epl": 1000}
    entry = body["audit"][0]
    assert entry["action"] == "customer.update" and entry["actor_id"] == 2
    assert entry["before"]["credit_limit_cents"] == 50000 and entry["after"]["credit_limit_cents"] == 70000
    assert entry["before"]["sport_limits"] == {} and entry["after"]["notes"] == "VIP"
    status, body = await book.patch("a", C + "/10", {})
    assert status == 422
    status, body = await book.patch("a", C + "/10", {"min_wager_cents": 900, "max_wager_cents": 500})
    assert status == 422
    status, body = await book.patch("a", C + "/10", {"email": "bob@x.test"})
    assert status == 409 and body["error"] == "email_taken"


async def test_master_write_to_sub_book_can_be_turned_off(book: Book) -> None:
    await book.sql("INSERT INTO agent_settings (agent_id, master_can_write) VALUES (2, false)")
    status, body = await book.patch("a", C + "/12", {"notes": "x"})
    assert status == 403 and body["error"] == "read_only"
    status, body = await book.post("a", C, {"login": "undersub", "agent_id": 3})
    assert status == 403 and body["error"] == "read_only"
    status, body = await book.post("a", C, {"login": "undermaster"})
    assert status == 201
    status, _ = await book.get("a", C + "/12")
    assert status == 200


async def test_deactivate_pushes_an_account_status_event_and_reactivate_restores(book: Book) -> None:
    status, body = await book.post("a", C + "/11/deactivate")
    assert status == 200 and body["status"] == "inactive"
    assert body["audit"][0]["action"] == "customer.deactivate"
    status, body = await book.post("a", C + "/11/deactivate")
    assert status == 409
    redis = aioredis.Redis.from_url(book.redis_url)
    try:
        entries = await redis.xrange(streams.NOTIFY)
    finally:
        await redis.aclose()
    events = [streams.decode_notify(f) for _id, f in entries]
    assert [(e["user"], e["kind"], e["data"]) for e in events] == [(11, "account.status", {"status": "inactive"})]
    status, body = await book.post("a", C + "/11/reactivate")
    assert status == 200 and body["status"] == "active"
    rows = await book.sql("SELECT action, before, after FROM audit_log WHERE target_id = 11 ORDER BY id")
    assert [r[0] for r in rows] == ["customer.deactivate", "customer.reactivate"]
    assert rows[0][1:] == ({"status": "active"}, {"status": "inactive"})
    assert orjson.dumps(rows)  # audit rows are plain JSON


async def test_every_sort_pages_through_with_cursors_and_tampered_cursors_get_422(book: Book) -> None:
    import base64
    import json

    await book.sql("UPDATE users SET last_active_at = now() - interval '1 day' WHERE id = 11")
    for sort in ("login", "balance", "last_active", "created"):
        for order in ("asc", "desc"):
            seen, cursor = [], None
            while True:
                params = {"limit": "1", "sort": sort, "order": order} | ({"cursor": cursor} if cursor else {})
                status, body = await book.get("a", C, params=params)
                assert status == 200, (sort, order, body)
                seen += [c["id"] for c in body["items"]]
                cursor = body["next_cursor"]
                if cursor is None:
                    break
            assert sorted(seen) == [10, 11, 12] and len(seen) == 3, (sort, order)
    for values, sort in ((["x", 1], "balance"), ([1, "x"], "login"), (["not a time", 1], "created"),
                         ([1, 2**70], "balance"), ([1], "login"), ([None, 1], "login")):
        raw = base64.urlsafe_b64encode(json.dumps(values).encode()).decode()
        status, body = await book.get("a", C, params={"sort": sort, "cursor": raw})
        assert status == 422 and "cursor" in body["details"], (values, sort)
    for path in ("/api/v1/agent/cashier/transactions", "/api/v1/agent/cashier/balances"):
        raw = base64.urlsafe_b64encode(orjson.dumps(["9e99"])).decode()
        status, body = await book.get("a", path, params={"cursor": raw})
        assert status == 422, path


async def test_out_of_range_ids_are_422_not_500(book: Book) -> None:
    huge = str(2**70)
    status, _ = await book.get("a", C, params={"agent_id": huge})
    assert status == 422
    status, _ = await book.get("a", "/api/v1/agent/cashier/transactions", params={"player_id": huge})
    assert status == 422
    status, _ = await book.post("a", "/api/v1/agent/cashier/credit", {
        "player_id": 2**70, "amount_cents": 1, "type": "deposit", "reason": "r"}, **{"Idempotency-Key": "h"})
    assert status == 422
    status, _ = await book.post("a", C, {"login": "hugeagent", "agent_id": 2**70})
    assert status == 422
    status, _ = await book.get("a", C + "/" + "9" * 30)
    assert status == 404
