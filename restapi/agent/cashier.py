"""Cashier rules: credit and debit through the ledger, exactly once per Idempotency-Key.

The key is claimed by inserting a claim row in the same transaction as the ledger entry: a
concurrent retry blocks on that row and, once the first commits, replays its stored response; if
the first rolled back (e.g. not enough credit) the retry runs afresh. Errors are not stored.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

import aiopg
import orjson
from prometheus_client import Counter

from restapi import ledger
from restapi.agent import queries as q
from restapi.agent.common import Window, decode_cursor, encode_cursor, iso, push, scoped_customer
from restapi.agent.customers import audit
from shared.errors import Conflict, ValidationFailed
from shared.redis import Redis

CREDIT_TYPES = ("deposit", "adjustment", "free_play", "settlement")
DEBIT_TYPES = ("withdrawal", "adjustment", "free_play", "settlement")

# Dashboards: cashier volume by kind (deposit, withdrawal, ...), counted once per committed move.
CASHIER_CENTS = Counter("cashier_moved_cents_total", "Money moved by the cashier, in cents", ["kind"])


def signed_amount(direction: str, tx_type: str, amount_cents: int) -> int:
    """The ledger amount of a cashier move; 422 for a type that does not go that way."""
    allowed = CREDIT_TYPES if direction == "credit" else DEBIT_TYPES
    if tx_type not in allowed:
        raise ValidationFailed(f"A {direction} cannot have type {tx_type!r}",
                               details={"type": [f"one of {', '.join(allowed)}"]})
    return amount_cents if direction == "credit" else -amount_cents


def request_fingerprint(direction: str, body: dict[str, Any]) -> str:
    """A hash of what was asked, so a key reused for a different request is refused."""
    return hashlib.sha256(orjson.dumps([direction, body], option=orjson.OPT_SORT_KEYS)).hexdigest()


async def move(pool: aiopg.Pool, redis: Redis, viewer: int, direction: str, body: dict[str, Any],
               key: str, at: datetime | None = None) -> tuple[int, dict[str, Any]]:
    """Credit or debit a customer (dated ``at``, default now); returns (HTTP status, body), replaying
    the first result of ``key``."""
    amount = signed_amount(direction, body["type"], body["amount_cents"])
    if direction == "credit" and body["override"]:
        raise ValidationFailed("override applies to debits only", details={"override": ["debits only"]})
    claim = {"actor_id": viewer, "key": key, "request_hash": request_fingerprint(direction, body)}
    async with pool.acquire() as conn, conn.cursor() as cur:
        async with cur.begin():
            await cur.execute(q.CLAIM_IDEMPOTENCY, claim)
            if await cur.fetchone() is not None:
                await scoped_customer(cur, viewer, body["player_id"], write=True, active=True)
                entry = await ledger.post(
                    cur, account_id=body["player_id"], amount_cents=amount, kind=body["type"],
                    ref_type="cashier", ref_id=key, actor_id=viewer, memo=body["reason"],
                    override=body["override"], at=at,
                )
                if entry.override:
                    await audit(cur, viewer, "cashier.override", body["player_id"],
                                {"balance_cents": entry.balance_after - amount},
                                {"balance_cents": entry.balance_after, "reason": body["reason"],
                                 "entry_id": entry.id})
                response = {"transaction": entry.to_json(), "replayed": False}
                await cur.execute(q.FINISH_IDEMPOTENCY, {**claim, "status": 201,
                                                         "response": orjson.dumps(response).decode()})
                status = 201
            else:
                await cur.execute(q.STORED_IDEMPOTENCY, claim)
                stored_hash, status, response = await cur.fetchone()
                if stored_hash != claim["request_hash"]:
                    raise Conflict("This Idempotency-Key was used for a different request",
                                   code="idempotency_key_reused")
                return status, {**response, "replayed": True}
    CASHIER_CENTS.labels(entry.kind).inc(abs(amount))
    await push(redis, body["player_id"], "balance.changed", {"balance_cents": entry.balance_after,
                                                             "kind": entry.kind})
    return status, response


async def balances(pool: aiopg.Pool, viewer: int, query: dict[str, Any]) -> dict[str, Any]:
    """Balances, credit limits, pending risk and available credit of the viewer's customers."""
    after = decode_cursor(query.get("cursor"), ("id",))
    async with pool.acquire() as conn, conn.cursor() as cur:
        if query.get("player_id") is not None:
            await scoped_customer(cur, viewer, query["player_id"])
        await cur.execute(q.BALANCES, {"viewer": viewer, "player_id": query.get("player_id"),
                                       "after_id": int(after[0]) if after else 0, "limit": query["limit"] + 1})
        rows = await cur.fetchall()
    more = len(rows) > query["limit"]
    rows = rows[: query["limit"]]
    items = [{"player_id": i, "login": login, "display_name": name, "status": status, "balance_cents": bal,
              "credit_limit_cents": lim, "pending_risk_cents": risk,
              "available_cents": ledger.available_cents(bal, lim, risk)}
             for i, login, name, status, bal, lim, risk in rows]
    totals = {"balance_cents": sum(i["balance_cents"] for i in items),
              "pending_risk_cents": sum(i["pending_risk_cents"] for i in items)}
    return {"items": items, "page_totals": totals,
            "next_cursor": encode_cursor([rows[-1][0]]) if more else None}


async def transactions(pool: aiopg.Pool, viewer: int, query: dict[str, Any], window: Window) -> dict[str, Any]:
    """Ledger entries of one customer or all of the viewer's, newest first, by business days and type;
    entries that move no money (a bet's risk being held) only with ``include_zero``."""
    before = decode_cursor(query.get("cursor"), ("id",))
    async with pool.acquire() as conn, conn.cursor() as cur:
        if query.get("player_id") is not None:
            await scoped_customer(cur, viewer, query["player_id"])
        await cur.execute(q.TRANSACTIONS, {
            "viewer": viewer, "player_id": query.get("player_id"), "start": window.starts_at,
            "end": window.ends_at, "kind": query.get("type"), "include_zero": query["include_zero"],
            "before_id": int(before[0]) if before else None,
            "limit": query["limit"] + 1})
        rows = await cur.fetchall()
    more = len(rows) > query["limit"]
    rows = rows[: query["limit"]]
    cols = ("id", "player_id", "login", "type", "amount_cents", "risk_cents", "balance_after", "ref_type",
            "ref_id", "actor_id", "memo", "override", "created_at")
    items = [dict(zip(cols, r, strict=True)) | {"created_at": iso(r[-1])} for r in rows]
    return {"items": items, "next_cursor": encode_cursor([rows[-1][0]]) if more else None}


async def summary(pool: aiopg.Pool, viewer: int, query: dict[str, Any], window: Window) -> dict[str, Any]:
    """Per business day or week (in the agent's time zone): deposits, withdrawals, net, player win/loss,
    handle and hold."""
    async with pool.acquire() as conn, conn.cursor() as cur:
        if query.get("player_id") is not None:
            await scoped_customer(cur, viewer, query["player_id"])
        await cur.execute(q.SUMMARY, {"viewer": viewer, "bucket": query["group"], "start": window.starts_at,
                                      "end": window.ends_at, "player_id": query.get("player_id"),
                                      "tz": window.schedule.timezone,
                                      "day_offset": timedelta(hours=window.schedule.close_time.hour,
                                                              minutes=window.schedule.close_time.minute)})
        rows = await cur.fetchall()
    periods = [summary_row(*r) for r in rows]
    totals = summary_row(None, *(sum(r[i] for r in rows) for i in range(1, 7)))
    return {"group": query["group"], **window.json(), "periods": periods,
            "totals": {k: v for k, v in totals.items() if k != "period"}}


def summary_row(period: Any, deposits: int, withdrawals: int, winloss: int, handle: int,
                adjustments: int, settlements: int) -> dict[str, Any]:
    """One summary line; hold is the book's win over handle (None without handle)."""
    return {
        "period": iso(period), "deposits_cents": deposits, "withdrawals_cents": withdrawals,
        "net_cents": deposits - withdrawals, "player_winloss_cents": winloss, "handle_cents": handle,
        "hold_pct": round(-winloss * 100 / handle, 2) if handle else None,
        "adjustments_cents": adjustments, "settlements_cents": settlements,
    }

