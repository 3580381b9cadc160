"""Every agent endpoint refuses another agent's customer (404) and a non-agent caller (403)."""

from __future__ import annotations

import pytest

from tests.restapi.agent.conftest import Book

ALICE = 10  # agent A's player

# (method, path, body, headers) for every endpoint that names a customer or settlement.
CALLS = [
    ("GET", f"/api/v1/agent/clients/{ALICE}", None, {}),
    ("PATCH", f"/api/v1/agent/clients/{ALICE}", {"notes": "x"}, {}),
    ("POST", f"/api/v1/agent/clients/{ALICE}/deactivate", None, {}),
    ("POST", f"/api/v1/agent/clients/{ALICE}/reactivate", None, {}),
    ("POST", "/api/v1/agent/cashier/credit",
     {"player_id": ALICE, "amount_cents": 100, "type": "deposit", "reason": "r"}, {"Idempotency-Key": "s1"}),
    ("POST", "/api/v1/agent/cashier/debit",
     {"player_id": ALICE, "amount_cents": 100, "type": "withdrawal", "reason": "r"}, {"Idempotency-Key": "s2"}),
    ("GET", f"/api/v1/agent/cashier/balances?player_id={ALICE}", None, {}),
    ("GET", f"/api/v1/agent/cashier/transactions?player_id={ALICE}", None, {}),
    ("GET", f"/api/v1/agent/cashier/summary?player_id={ALICE}", None, {}),
    ("POST", "/api/v1/agent/settlements/{sid}/payments", {"amount_cents": 1, "method": "cash"}, {}),
]


async def _settlement_of_alice(book: Book) -> int:
    rows = await book.sql("""
        WITH c AS (INSERT INTO settlement_cycles (agent_id, week_start, week_end, due_at)
                   VALUES (2, '2026-01-06', '2026-01-13', '2026-01-15') RETURNING id)
        INSERT INTO settlements (cycle_id, player_id, figure_cents) SELECT id, 10, -500 FROM c RETURNING id""")
    return int(rows[0][0])


@pytest.mark.parametrize(("method", "path", "body", "headers"), CALLS, ids=[f"{m} {p}" for m, p, _b, _h in CALLS])
async def test_other_agent_gets_404_and_player_403(book: Book, method: str, path: str, body: object,
                                                   headers: dict[str, str]) -> None:
    path = path.format(sid=await _settlement_of_alice(book))
    for who, expected in (("b", 404), ("a2", 404), ("alice", 403), ("zed", 403)):
        resp = await book.client.request(method, path, json=body, headers=book.auth(who, **headers))
        payload = await resp.json()
        assert resp.status == expected, (who, payload)
        assert set(payload) == {"error", "message", "details"}
    # The owner (and the admin) can act: the refusal above is about scope, not a broken endpoint.
    resp = await book.client.request(method, path, json=body, headers=book.auth("a", **headers))
    assert resp.status in (200, 201, 409), await resp.text()
    rows = await book.sql("SELECT count(*) FROM ledger_entries WHERE actor_id = 4")
    assert rows == [(0,)]


async def test_lists_never_show_another_agents_customers(book: Book) -> None:
    for path in ("/api/v1/agent/clients", "/api/v1/agent/cashier/balances", "/api/v1/agent/reports/customers"):
        status, body = await book.get("b", path)
        assert status == 200 and all(i.get("player_id", i.get("id")) == 20 for i in body["items"]), path


async def test_ledger_verify_endpoint_is_admin_only_and_finds_tampering(book: Book) -> None:
    status, body = await book.post("a", "/api/v1/agent/cashier/credit",
                                   {"player_id": ALICE, "amount_cents": 100, "type": "deposit", "reason": "r"},
                                   **{"Idempotency-Key": "v1"})
    assert status == 201
    status, body = await book.get("a", "/api/v1/agent/ledger/verify")
    assert status == 403
    status, body = await book.get("admin", "/api/v1/agent/ledger/verify")
    assert status == 200 and body["ok"] is True and body["entries_checked"] == 1
    await book.sql("ALTER TABLE ledger_entries DISABLE TRIGGER ledger_no_update_delete;"
                   "UPDATE ledger_entries SET amount_cents = 100000, balance_after = 100000;"
                   "ALTER TABLE ledger_entries ENABLE TRIGGER ledger_no_update_delete")
    status, body = await book.get("admin", "/api/v1/agent/ledger/verify", params={"account_id": str(ALICE)})
    assert status == 200 and body["ok"] is False
    assert body["first_broken"]["account_id"] == ALICE and body["first_broken"]["seq"] == 1


async def test_schedule_is_per_agent_and_validated(book: Book) -> None:
    resp = await book.client.put("/api/v1/agent/schedule", json={"close_dow": 1, "timezone": "America/Chicago"},
                                 headers=book.auth("a"))
    assert resp.status == 200 and (await resp.json())["close_dow"] == 1
    for bad in ({"timezone": "Mars/Olympus"}, {"close_dow": 8}, {"close_time": "25:00"}):
        resp = await book.client.put("/api/v1/agent/schedule", json=bad, headers=book.auth("a"))
        assert resp.status == 422, bad
    status, body = await book.get("b", "/api/v1/agent/schedule")
    assert body["close_dow"] == 2 and body["timezone"] == "UTC"
    status, body = await book.get("a", "/api/v1/agent/schedule")
    assert body["close_dow"] == 1 and body["timezone"] == "America/Chicago"


@pytest.mark.parametrize("raw", [b"", b"[]", b'"x"', b"null", b"{", b"\xff\xfe", b'{"player_id": true}'])
async def test_malformed_bodies_are_4xx_never_500(book: Book, raw: bytes) -> None:
    for method, path in (("POST", "/api/v1/agent/clients"), ("PATCH", "/api/v1/agent/clients/10"),
                         ("POST", "/api/v1/agent/cashier/credit"), ("POST", "/api/v1/agent/cashier/debit"),
                         ("POST", "/api/v1/agent/settlements/1/payments"), ("PUT", "/api/v1/agent/schedule")):
        resp = await book.client.request(method, path, data=raw, headers=book.auth(
            "a", **{"Content-Type": "application/json", "Idempotency-Key": "m"}))
        body = await resp.json()
        assert 400 <= resp.status < 500 and set(body) == {"error", "message", "details"}, (method, path, raw, body)


async def test_openapi_documents_the_agent_hub(book: Book) -> None:
    spec = await (await book.client.get("/docs/openapi.json")).json()
    paths = spec["paths"]
    for path in ("/api/v1/agent/clients", "/api/v1/agent/clients/{player_id}", "/api/v1/agent/cashier/credit",
                 "/api/v1/agent/settlements/{settlement_id}/payments", "/api/v1/agent/reports/customers",
                 "/api/v1/agent/dashboard", "/api/v1/dashboard", "/api/v1/agent/ledger/verify"):
        assert path in paths, path
    credit = paths["/api/v1/agent/cashier/credit"]["post"]
    assert any(p.get("name") == "Idempotency-Key" for p in credit.get("parameters", []))
