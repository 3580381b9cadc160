"""Weekly settlement rules: close a week (idempotent), take payments, list, compliance, reminders.

A settlement's figure is the player's weekly figure (``restapi.ledger.FIGURE_KINDS``): positive means
the book owes the player, negative that the player owes the book. A payment posts a ``settlement``
ledger entry that moves the balance back towards zero: +amount when the player pays the book,
-amount when the book pays the player (with ``override``: the book pays what it owes even if the
player has since used their credit).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time
from typing import Any

import aiopg
import orjson

from restapi import ledger
from restapi.agent import queries as cq
from restapi.agent import queries_settle as q
from restapi.agent.cashier import request_fingerprint
from restapi.agent.common import decode_cursor, encode_cursor, iso, push, usd
from restapi.agent.cycles import Schedule, last_close, reminder_due, schedule_for, settlement_state, shift, week_days
from restapi.agent.cycles import due_at as cycle_due_at
from shared.errors import Conflict, Forbidden, NotFound, Unavailable, ValidationFailed
from shared.mail import Mailer
from shared.redis import Redis

log = logging.getLogger(__name__)
MAX_CATCH_UP_WEEKS = 12


def settlement_status(figure_cents: int, paid_cents: int) -> str:
    """pending, partial or settled, from what is owed and what has been paid."""
    if paid_cents >= abs(figure_cents):
        return "settled"
    return "partial" if paid_cents > 0 else "pending"


async def close_week(pool: aiopg.Pool, agent_id: int, week_end: datetime, schedule: Schedule,
                     *, now: datetime | None = None) -> int | None:
    """Close the agent's week ending at ``week_end``; the cycle id, or None if it was already closed."""
    week_start = shift(week_end, schedule, -1)
    due = cycle_due_at(week_end, schedule)
    async with pool.acquire() as conn, conn.cursor() as cur, cur.begin():
        await cur.execute(q.LOCK_AGENT_CYCLE, {"agent_id": agent_id})
        await cur.execute(q.INSERT_CYCLE, {"agent_id": agent_id, "week_start": week_start, "week_end": week_end,
                                           "due_at": due, "closed_at": now or datetime.now(UTC)})
        row = await cur.fetchone()
        if row is None:
            return None
        (cycle_id,) = row
        await cur.execute(q.INSERT_SETTLEMENTS, {"cycle_id": cycle_id, "agent_id": agent_id,
                                                 "week_start": week_start, "week_end": week_end})
        log.info("closed week of agent %s ending %s: %d settlement(s)", agent_id, week_end.isoformat(),
                 cur.rowcount)
    return int(cycle_id)


def missed_closes(last_closed: datetime | None, now: datetime, schedule: Schedule,
                  limit: int = MAX_CATCH_UP_WEEKS) -> list[datetime]:
    """Closing instants due by ``now`` after ``last_closed`` (oldest first, at most ``limit``).

    An agent with no cycle yet starts with the latest ended week; after downtime the jobs catch up
    on every week they missed rather than skipping one.
    """
    latest = last_close(now, schedule)
    if last_closed is None:
        return [latest]
    closes: list[datetime] = []
    close = shift(last_closed, schedule, 1)
    while close <= latest:
        closes.append(close)
        close = shift(close, schedule, 1)
    return closes[-limit:]


async def close_due_weeks(pool: aiopg.Pool, now: datetime | None = None) -> list[int]:
    """Close, for every agent, each ended week that is not closed yet (catching up after downtime)."""
    now = now or datetime.now(UTC)
    closed: list[int] = []
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(q.AGENTS)
        agents = [a for (a,) in await cur.fetchall()]
        due: dict[int, tuple[Schedule, list[datetime]]] = {}
        for agent_id in agents:
            schedule = await schedule_for(cur, agent_id)
            await cur.execute(q.LAST_CYCLE_END, {"agent_id": agent_id})
            (last_closed,) = await cur.fetchone()
            due[agent_id] = (schedule, missed_closes(last_closed, now, schedule))
    for agent_id, (schedule, closes) in due.items():
        for end in closes:
            cycle = await close_week(pool, agent_id, end, schedule, now=now)
            if cycle is not None:
                closed.append(cycle)
    return closed


async def pay(pool: aiopg.Pool, viewer: int, settlement_id: int, body: dict[str, Any], *,
              key: str | None = None, at: datetime | None = None) -> dict[str, Any]:
    """Record a (partial) payment of a settlement and post it to the ledger, in one transaction.

    With an Idempotency-Key ``key`` a retry returns the first payment instead of paying twice
    (same mechanism as the cashier). ``at`` backdates the payment (the demo seed only).
    """
    at = at or datetime.now(UTC)
    async with pool.acquire() as conn, conn.cursor() as cur, cur.begin():
        claim = None
        if key is not None:
            claim = {"actor_id": viewer, "key": key,
                     "request_hash": request_fingerprint(f"payment:{settlement_id}", body)}
            await cur.execute(cq.CLAIM_IDEMPOTENCY, claim)
            if await cur.fetchone() is None:
                await cur.execute(cq.STORED_IDEMPOTENCY, claim)
                stored_hash, _status, stored = await cur.fetchone()
                if stored_hash != claim["request_hash"]:
                    raise Conflict("This Idempotency-Key was used for a different request",
                                   code="idempotency_key_reused")
                return {**stored, "replayed": True}
        result = await _pay(cur, viewer, settlement_id, body, at)
        if claim is not None:
            await cur.execute(cq.FINISH_IDEMPOTENCY, {**claim, "status": 201,
                                                      "response": orjson.dumps(result).decode()})
    return {**result, "replayed": False}


async def _pay(cur: Any, viewer: int, settlement_id: int, body: dict[str, Any], at: datetime) -> dict[str, Any]:
    """Pay inside the caller's transaction: lock the settlement, post to the ledger, update it."""
    await cur.execute(q.SETTLEMENT_FOR_PAYMENT, {"viewer": viewer, "id": settlement_id})
    row = await cur.fetchone()
    if row is None:
        raise NotFound("No such settlement in your book", code="settlement_not_found")
    _id, player_id, figure, paid, status, writable = row
    if not writable:
        raise Forbidden("This settlement belongs to a sub-agent's book you may only read", code="read_only")
    if status == "settled":
        raise Conflict("This settlement is already paid in full", code="already_settled")
    remaining = abs(figure) - paid
    if body["amount_cents"] > remaining:
        raise ValidationFailed(f"The payment is more than the {usd(remaining)} still owed",
                               details={"amount_cents": [f"pay at most {usd(remaining)}"],
                                        "remaining_cents": remaining})
    player_pays = figure < 0
    entry = await ledger.post(
        cur, account_id=player_id, amount_cents=body["amount_cents"] if player_pays else -body["amount_cents"],
        kind="settlement", ref_type="settlement", ref_id=settlement_id, actor_id=viewer,
        memo=f"{body['method']} {body['reference']}".strip(), override=not player_pays, at=at,
    )
    await cur.execute(q.INSERT_PAYMENT, {"id": settlement_id, **body, "actor_id": viewer, "entry_id": entry.id,
                                         "at": at})
    payment_id, created_at = await cur.fetchone()
    paid += body["amount_cents"]
    status = settlement_status(figure, paid)
    await cur.execute(q.UPDATE_SETTLEMENT, {"id": settlement_id, "paid_cents": paid, "status": status,
                                            "at": at})
    return {"payment": {"id": payment_id, "settlement_id": settlement_id, **body, "created_at": iso(created_at),
                        "ledger_entry_id": entry.id},
            "settlement": {"id": settlement_id, "figure_cents": figure, "paid_cents": paid,
                           "remaining_cents": abs(figure) - paid, "status": status}}


async def listing(pool: aiopg.Pool, viewer: int, query: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Settlements of a week (or recent and open ones), newest cycle first, with their payments and
    display state at ``now``: a page of ``limit`` rows, also grouped by cycle, and the next page's cursor."""
    week: date | None = query.get("week")
    after = decode_cursor(query.get("cursor"), ("time", "id", "id"))
    params = {"viewer": viewer, "status": query.get("status"), "limit": query["limit"] + 1, "now": now,
              "owner": query.get("agent_id"),
              "week": None if week is None else datetime.combine(week, time(12), UTC),
              "after_end": after[0] if after else None, "after_cycle": after[1] if after else 0,
              "after_id": after[2] if after else 0}
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(q.LIST_SETTLEMENTS, params)
        rows = [dict(zip(q.SETTLEMENT_COLUMNS, r, strict=True)) for r in await cur.fetchall()]
        more = len(rows) > query["limit"]
        rows = rows[:query["limit"]]
        payments: dict[int, list[dict[str, Any]]] = {r["id"]: [] for r in rows}
        schedules = {a: await schedule_for(cur, a) for a in {r["agent_id"] for r in rows}}
        if rows:
            await cur.execute(q.PAYMENTS_OF, {"ids": list(payments)})
            for sid, pid, amount, method, ref, actor, at in await cur.fetchall():
                payments[sid].append({"id": pid, "amount_cents": amount, "method": method, "reference": ref,
                                      "actor_id": actor, "created_at": iso(at)})
    items = []
    for r in rows:
        state, days = settlement_state(r["status"], r["due_at"], now)
        first, last = week_days(r["week_start"], r["week_end"], schedules[r["agent_id"]])
        items.append({
            "first_day": first.isoformat(), "last_day": last.isoformat(),
            **{k: iso(v) if isinstance(v, datetime) else v for k, v in r.items()},
            "state": state, "days_overdue": days,
            "remaining_cents": abs(r["figure_cents"]) - r["paid_cents"],
            "direction": "player_pays" if r["figure_cents"] < 0 else "book_pays",
            "payments": payments[r["id"]],
        })
    counts: dict[str, int] = {}
    for item in items:
        counts[item["state"]] = counts.get(item["state"], 0) + 1
    tail = rows[-1] if rows else None
    return {"items": items, "counts": counts, "cycles": group_by_cycle(items),
            "next_cursor": encode_cursor([iso(tail["week_end"]), tail["cycle_id"], tail["id"]])
            if more and tail else None}


def group_by_cycle(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive settlement items grouped under their cycle, with each cycle's totals by state."""
    cycles: list[dict[str, Any]] = []
    for item in items:
        if not cycles or cycles[-1]["cycle_id"] != item["cycle_id"]:
            head = {k: item[k] for k in ("cycle_id", "agent_id", "agent_login", "week_start", "week_end",
                                         "first_day", "last_day", "due_at")}
            cycles.append(head | {"items": [], "figure_cents": 0, "remaining_cents": 0, "counts": {}})
        cycle = cycles[-1]
        cycle["items"].append(item)
        cycle["figure_cents"] += item["figure_cents"]
        cycle["remaining_cents"] += item["remaining_cents"]
        cycle["counts"][item["state"]] = cycle["counts"].get(item["state"], 0) + 1
    return cycles


async def compliance(pool: aiopg.Pool, viewer: int, now: datetime) -> dict[str, Any]:
    """Per agent: settled on time / late, overdue (with days overdue), completion rate."""
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(q.COMPLIANCE, {"viewer": viewer, "now": now})
        per_agent = []
        for agent_id, total, on_time, late, overdue, open_, outstanding in await cur.fetchall():
            closed = on_time + late
            per_agent.append({
                "agent_id": agent_id, "settlements": total, "settled_on_time": on_time, "settled_late": late,
                "overdue": overdue, "open_not_due": open_, "outstanding_cents": outstanding,
                "completion_rate": round(closed / total, 4) if total else None,
                "on_time_rate": round(on_time / total, 4) if total else None,
            })
        await cur.execute(q.OVERDUE, {"viewer": viewer, "now": now})
        overdue_items = [
            {"settlement_id": sid, "agent_id": agent, "player_id": pid, "login": login, "figure_cents": fig,
             "paid_cents": paid, "due_at": iso(due), "days_overdue": days}
            for sid, agent, pid, login, fig, paid, due, days in await cur.fetchall()
        ]
    total = sum(a["settlements"] for a in per_agent)
    done = sum(a["settled_on_time"] + a["settled_late"] for a in per_agent)
    return {"agents": per_agent, "overdue": overdue_items,
            "completion_rate": round(done / total, 4) if total else None}


def reminder_text(name: str, week_end: datetime, pending: tuple[int, int, int],
                  week: tuple[int, int, int]) -> tuple[str, str]:
    """Subject and body of an agent's pre-close reminder (no customer personal data)."""
    count, outstanding, overdue = pending
    players, owed_by_players, owed_to_players = week
    subject = f"WagerBabe: week closes {week_end:%a %d %b %H:%M} UTC - {count} settlement(s) open"
    body = (f"Hello {name},\n\nYour weekly cycle closes at {week_end.isoformat()}.\n\n"
            f"Open settlements from earlier weeks: {count} ({overdue} overdue), "
            f"{outstanding / 100:.2f} outstanding.\n"
            f"This week so far: {players} player(s) with a figure; players owe {owed_by_players / 100:.2f}, "
            f"the book owes {owed_to_players / 100:.2f}.\n\nSettle them in the agent hub.\n")
    return subject, body


async def send_due_reminders(pool: aiopg.Pool, redis: Redis, settings: Any,
                             now: datetime | None = None) -> list[int]:
    """Remind every agent whose week closes within its reminder window; never twice per cycle."""
    now = now or datetime.now(UTC)
    sent: list[int] = []
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(q.AGENTS)
        agents = [a for (a,) in await cur.fetchall()]
        for agent_id in agents:
            schedule = await schedule_for(cur, agent_id)
            week_end = reminder_due(now, schedule)
            if week_end is None:
                continue
            await cur.execute(q.PENDING_FOR_AGENT, {"agent_id": agent_id, "now": now})
            pending = await cur.fetchone()
            await cur.execute(q.WEEK_FIGURES_FOR_AGENT, {"agent_id": agent_id, "since": shift(week_end, schedule, -1)})
            week = await cur.fetchone()
            # Claim first (autocommit): a crash after this loses one reminder rather than sending two.
            await cur.execute(q.CLAIM_REMINDER, {"agent_id": agent_id, "week_end": week_end, "pending": pending[0]})
            if await cur.fetchone() is None:
                continue
            await cur.execute(q.AGENT_CONTACT, {"agent_id": agent_id})
            email, name = await cur.fetchone()
            subject, body = reminder_text(name or "agent", week_end, pending, week)
            await push(redis, agent_id, "settlement.reminder", {
                "week_end": iso(week_end), "open": pending[0], "outstanding_cents": pending[1],
                "overdue": pending[2], "week_players": week[0]})
            if email:
                try:
                    await Mailer.from_settings(settings).send(email, subject, body)
                except Unavailable as exc:  # the push went out; a mail server outage must not stop the loop
                    log.warning("reminder mail to agent %s failed: %s", agent_id, exc)
            sent.append(agent_id)
    return sent
