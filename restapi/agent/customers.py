"""Customer rules: create, list, detail, update, deactivate/reactivate, each change audit-logged.

No HTTP here: functions take a pool (or cursor) and the viewer's id, and return plain dicts.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import aiopg
import bcrypt
import orjson

from restapi.agent import queries as q
from restapi.agent.common import decode_cursor, encode_cursor, iso, push, scoped_customer
from restapi.agent.cycles import schedule_for, week_bounds
from restapi.auth.service import revoke_all
from restapi.betting import service as betting
from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shared.redis import Redis

BCRYPT_COST = 12
CURSOR_KINDS = {"login": "text", "balance": "int", "last_active": "time", "created": "time"}
AUDITED = ("email", "display_name", "phone", "notes", "credit_limit_cents", "max_wager_cents",
           "min_wager_cents", "status")


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (iso(v) if isinstance(v, datetime) else v) for k, v in row.items()}


async def audit(cur: Any, actor_id: int, action: str, target_id: int,
                before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    """Append one audit row (who, what, before/after) in the caller's transaction."""
    await cur.execute(q.INSERT_AUDIT, {
        "actor_id": actor_id, "action": action, "target_type": "user", "target_id": target_id,
        "before": None if before is None else orjson.dumps(_jsonable(before)).decode(),
        "after": None if after is None else orjson.dumps(_jsonable(after)).decode(),
    })


async def _sport_limits(cur: Any, player_id: int) -> dict[str, int]:
    await cur.execute(q.SPORT_LIMITS, {"id": player_id})
    return {sport: cents for sport, cents in await cur.fetchall()}


async def _replace_sport_limits(cur: Any, player_id: int, limits: dict[str, int]) -> None:
    await cur.execute(q.DELETE_SPORT_LIMITS, {"id": player_id})
    for sport, cents in sorted(limits.items()):
        await cur.execute(q.INSERT_SPORT_LIMIT, {"id": player_id, "sport": sport, "cents": cents})


async def create(pool: aiopg.Pool, viewer: int, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Open a player account under the viewer (or one of its sub-agents); 409 if login/email is taken."""
    password = data.pop("password")
    password_hash = None
    if password is not None:
        hashed = await asyncio.to_thread(bcrypt.hashpw, password.encode(), bcrypt.gensalt(BCRYPT_COST))
        password_hash = hashed.decode()
    sport_limits = data.pop("sport_limits")
    params = {**data, "login": data["login"].strip().lower(), "password_hash": password_hash,
              "email": data["email"].strip().lower() if data["email"] else None}
    async with pool.acquire() as conn, conn.cursor() as cur, cur.begin():
        await cur.execute(q.AGENT_IN_SCOPE, {"viewer": viewer, "agent_id": params["agent_id"] or viewer})
        scope = await cur.fetchone()
        if scope is None:
            raise NotFound("No such agent in your tree (an admin must name the agent_id)",
                           code="agent_not_found", details={"agent_id": params["agent_id"]})
        if not scope[0]:
            raise Forbidden("You may only read this sub-agent's book", code="read_only")
        params["agent_id"] = params["agent_id"] or viewer
        await cur.execute(q.INSERT_CUSTOMER, params)
        row = await cur.fetchone()
        if row is None:
            await cur.execute(q.LOGIN_OR_EMAIL_TAKEN, params)
            taken = await cur.fetchone() or (True, False)
            field = "login" if taken[0] else "email"
            raise Conflict(f"That {field} is already taken", code=f"{field}_taken", details={"field": field})
        (player_id,) = row
        await _replace_sport_limits(cur, player_id, sport_limits)
        after = {k: params.get(k) for k in AUDITED if k != "status"} | {"status": "active",
                                                                        "sport_limits": sport_limits}
        await audit(cur, viewer, "customer.create", player_id, None, after)
    return await detail(pool, viewer, player_id, now) | {"invite": password is None}


def _list_params(viewer: int, query: dict[str, Any]) -> dict[str, Any]:
    like = None
    if query.get("q"):
        escaped = query["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        like = f"%{escaped}%"
    after = decode_cursor(query.get("cursor"), (CURSOR_KINDS[query["sort"]], "id"))
    return {
        "viewer": viewer, "agent_id": query.get("agent_id"), "status": query.get("status"),
        "balance_below": query.get("balance_below"), "balance_above": query.get("balance_above"),
        "active_since": query.get("active_since"), "has_open_bets": query.get("has_open_bets"),
        "like": like, "after_value": None if after is None else str(after[0]),
        "after_id": None if after is None else int(after[1]), "limit": query["limit"] + 1,
    }


async def list_customers(pool: aiopg.Pool, viewer: int, query: dict[str, Any]) -> dict[str, Any]:
    """One page of the viewer's customers, filtered and sorted, with the cursor of the next page."""
    sql = q.LIST_CUSTOMERS[(query["sort"], query["order"].upper())]
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(sql, _list_params(viewer, query))
        rows = await cur.fetchall()
    more = len(rows) > query["limit"]
    rows = rows[: query["limit"]]
    items = [_jsonable(dict(zip(q.LIST_COLUMNS, r[:-1], strict=True))) for r in rows]
    cursor = None
    if more:
        last = rows[-1][-1]
        cursor = encode_cursor([last.isoformat() if isinstance(last, datetime) else last, rows[-1][0]])
    return {"items": items, "next_cursor": cursor}


async def bets(pool: aiopg.Pool, viewer: int, player_id: int, query: dict[str, Any], page_max: int) -> dict[str, Any]:
    """A page of a customer's bets with their legs, newest first (the filters and cursor of the
    player's own ``GET betting/bets``); 404 outside the viewer's tree."""
    async with pool.acquire() as conn, conn.cursor() as cur:
        await scoped_customer(cur, viewer, player_id)
    return await betting.history(pool, player_id, query, page_max)


async def detail(pool: aiopg.Pool, viewer: int, player_id: int, now: datetime) -> dict[str, Any]:
    """A customer with limits, open bets, this week's figure, recent transactions and audit trail."""
    async with pool.acquire() as conn, conn.cursor() as cur:
        customer = await scoped_customer(cur, viewer, player_id)
        customer["available_cents"] = (customer["balance_cents"] + customer["credit_limit_cents"]
                                       - customer["pending_risk_cents"])
        customer["sport_limits"] = await _sport_limits(cur, player_id)
        await cur.execute(q.OPEN_BETS, {"id": player_id})
        customer["open_bets"] = [
            {"bet_id": ref, "risk_cents": risk, "placed_at": iso(at), "sport": sport, "event": event}
            for ref, risk, at, sport, event in await cur.fetchall()
        ]
        schedule = await schedule_for(cur, customer["agent_id"])
        start, _end = week_bounds(now, schedule, current=True)
        await cur.execute(q.FIGURE_SINCE, {"id": player_id, "since": start})
        (figure,) = await cur.fetchone()
        customer["week"] = {"start": iso(start), "figure_cents": figure}
        await cur.execute(q.RECENT_ENTRIES, {"id": player_id})
        customer["recent_transactions"] = [
            {"id": i, "kind": k, "amount_cents": a, "risk_cents": r, "balance_after": b, "memo": m,
             "actor_id": actor, "created_at": iso(at)}
            for i, k, a, r, b, m, actor, at in await cur.fetchall()
        ]
        await cur.execute(q.AUDIT_FOR, {"id": player_id, "limit": 20})
        customer["audit"] = [
            {"id": i, "actor_id": actor, "action": action, "before": before, "after": after,
             "created_at": iso(at)}
            for i, actor, action, before, after, at in await cur.fetchall()
        ]
    return _jsonable(customer)


async def update(pool: aiopg.Pool, viewer: int, player_id: int, changes: dict[str, Any],
                 now: datetime) -> dict[str, Any]:
    """Change limits, contact or notes; the audit row holds the fields before and after."""
    if not changes:
        raise ValidationFailed("Nothing to update", details={"body": ["send at least one field"]})
    async with pool.acquire() as conn, conn.cursor() as cur, cur.begin():
        current = await scoped_customer(cur, viewer, player_id, write=True, lock=True)
        before = {k: current[k] for k in AUDITED if k != "status"}
        after = before | {k: v for k, v in changes.items() if k != "sport_limits"}
        if after.get("email"):
            after["email"] = after["email"].strip().lower()
        lo, hi = after["min_wager_cents"], after["max_wager_cents"]
        if lo is not None and hi is not None and lo > hi:
            raise ValidationFailed("The smallest bet is more than the largest bet",
                                   details={"min_wager_cents": ["must not be more than the largest bet"]})
        if "sport_limits" in changes:
            before["sport_limits"] = await _sport_limits(cur, player_id)
            after["sport_limits"] = changes["sport_limits"]
            await _replace_sport_limits(cur, player_id, changes["sport_limits"])
        try:
            await cur.execute(q.UPDATE_CUSTOMER, {**after, "id": player_id})
        except Exception as exc:  # only the unique e-mail index can fail here
            if getattr(exc, "pgcode", None) == "23505":
                raise Conflict("That email is already taken", code="email_taken",
                               details={"field": "email"}) from None
            raise
        await audit(cur, viewer, "customer.update", player_id, before, after)
    return await detail(pool, viewer, player_id, now)


async def set_status(pool: aiopg.Pool, redis: Redis, viewer: int, player_id: int, status: str,
                     now: datetime) -> dict[str, Any]:
    """Deactivate or reactivate; the player's sockets hear it on the ``notify`` stream (pushd closes them)."""
    async with pool.acquire() as conn, conn.cursor() as cur, cur.begin():
        current = await scoped_customer(cur, viewer, player_id, write=True, lock=True)
        if current["status"] == status:
            raise Conflict(f"The customer is already {status}", code=f"already_{status}")
        await cur.execute(q.SET_STATUS, {"id": player_id, "status": status})
        action = "customer.deactivate" if status == "inactive" else "customer.reactivate"
        await audit(cur, viewer, action, player_id, {"status": current["status"]}, {"status": status})
    # After the commit: a push for a change that rolled back would be wrong. Before the revocation:
    # pushd closes the player's sockets on the first of the two it reads, and 4003 (deactivated:
    # stop reconnecting) tells the app more than 4001 (credentials revoked).
    await push(redis, player_id, "account.status", {"status": status})
    if status == "inactive":  # out at once: revoke sessions and denylist live access tokens
        await revoke_all(pool, redis, player_id, "deactivated")
    return await detail(pool, viewer, player_id, now)
