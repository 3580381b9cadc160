"""Reports (performance, customer activity) and dashboards, from the ledger.

Customer activity is read in keyset pages and written as it is read (CSV or a JSON array), so a
large book streams in constant memory. The agent dashboard is cached briefly per viewer in Redis.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import aiopg
import orjson

from restapi import ledger
from restapi.agent import queries as cq
from restapi.agent import queries_reports as q
from restapi.agent.common import iso
from restapi.agent.cycles import schedule_for, shift, week_bounds
from shared import streams
from shared.redis import Redis

PAGE = 1000
PERF_HEADER = ("dimension", "key", "bets", "handle_cents", "player_winloss_cents", "book_win_cents", "hold_pct")
DASHBOARD_KEY = "agent:dashboard:{viewer}"


def perf_line(dimension: str, key: str, bets: int, handle: int, winloss: int) -> dict[str, Any]:
    """One performance line: the book's win is the player's loss; hold = book win / handle."""
    return {"dimension": dimension, "key": key, "bets": bets, "handle_cents": handle,
            "player_winloss_cents": winloss, "book_win_cents": -winloss,
            "hold_pct": round(-winloss * 100 / handle, 2) if handle else None}


async def performance(pool: aiopg.Pool, viewer: int, start: datetime, end: datetime) -> dict[str, Any]:
    """Handle, hold and win/loss by day, sport and bet type over [start, end)."""
    params = {"viewer": viewer, "start": start, "end": end}
    out: dict[str, Any] = {"from": iso(start), "to": iso(end)}
    async with pool.acquire() as conn, conn.cursor() as cur:
        for name, dimension, sql in (("by_day", "day", q.PERF_BY_DAY), ("by_sport", "sport", q.PERF_BY_SPORT),
                                     ("by_bet_type", "bet_type", q.PERF_BY_BET_TYPE)):
            await cur.execute(sql, params)
            out[name] = [perf_line(dimension, *row) for row in await cur.fetchall()]
    days = out["by_day"]
    out["totals"] = perf_line("total", "all", sum(d["bets"] for d in days), sum(d["handle_cents"] for d in days),
                              sum(d["player_winloss_cents"] for d in days))
    return out


def performance_rows(report: dict[str, Any]) -> Iterable[list[Any]]:
    """The performance report as CSV rows (after the header)."""
    for name in ("by_day", "by_sport", "by_bet_type"):
        for line in report[name]:
            yield [line[c] for c in PERF_HEADER]
    yield [report["totals"][c] for c in PERF_HEADER]


async def customer_pages(pool: aiopg.Pool, viewer: int, start: datetime,
                         end: datetime) -> AsyncIterator[list[dict[str, Any]]]:
    """Customer activity in pages of ``PAGE`` players, ordered by id."""
    after = 0
    async with pool.acquire() as conn, conn.cursor() as cur:
        while True:
            await cur.execute(q.CUSTOMER_ACTIVITY, {"viewer": viewer, "start": start, "end": end,
                                                    "day_from": start.date(), "day_to": end.date(),
                                                    "after_id": after, "limit": PAGE})
            rows = await cur.fetchall()
            if not rows:
                return
            yield [{k: iso(v) if isinstance(v, datetime) else v
                    for k, v in zip(q.CUSTOMER_ACTIVITY_COLUMNS, r, strict=True)} for r in rows]
            if len(rows) < PAGE:
                return
            after = rows[-1][0]


def csv_chunk(rows: Iterable[Iterable[Any]]) -> bytes:
    """Rows as CSV text (RFC 4180 quoting, CRLF line ends), with None as an empty field."""
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buf.getvalue().encode()


def json_chunk(items: list[dict[str, Any]], first: bool) -> bytes:
    """Items as a slice of a JSON array being streamed."""
    body = b",".join(orjson.dumps(i) for i in items)
    return body if first else b"," + body


async def agent_dashboard(pool: aiopg.Pool, redis: Redis, viewer: int, ttl: float,
                          now: datetime) -> dict[str, Any]:
    """Revenue this and last week, active and online players, settlements, exposure at ``now``
    (cached ``ttl`` s)."""
    key = DASHBOARD_KEY.format(viewer=viewer)
    if ttl > 0:
        cached = await redis.get(key)
        if cached is not None:
            return {**orjson.loads(cached), "cached": True}
    async with pool.acquire() as conn, conn.cursor() as cur:
        schedule = await schedule_for(cur, viewer)
        this_start, this_end = week_bounds(now, schedule, current=True)
        last_start = shift(this_start, schedule, -1)
        this_wl, last_wl = await _revenue(cur, viewer, last_start, this_start, now)
        await cur.execute(q.BOOK_TOTALS, {"viewer": viewer, "active_since": now - timedelta(days=7)})
        players, active_accounts, balances, open_risk, active = await cur.fetchone()
        await cur.execute(q.SETTLEMENT_TOTALS, {"viewer": viewer, "now": now})
        pending, pending_cents, overdue, overdue_cents = await cur.fetchone()
        await cur.execute(q.EXPOSURE_BY_EVENT, {"viewer": viewer, "since": now - timedelta(days=14)})
        exposure = [{"event": ev, "open_risk_cents": risk, "bets": n} for ev, risk, n in await cur.fetchall()]
    result = {
        "week": {"start": iso(this_start), "end": iso(this_end)},
        "revenue": {"this_week_cents": -this_wl, "last_week_cents": -last_wl},
        "players": {"total": players, "active_accounts": active_accounts, "active_7d": active,
                    "online_now": await online_now(redis)},
        "balances_cents": balances,
        "settlements": {"pending": pending, "pending_cents": pending_cents, "overdue": overdue,
                        "overdue_cents": overdue_cents},
        "exposure": {"open_risk_cents": open_risk, "by_event": exposure},
        "generated_at": iso(now),
    }
    if ttl > 0:
        await redis.set(key, orjson.dumps(result), px=int(ttl * 1000))
    return {**result, "cached": False}


def split_days(start: datetime, end: datetime) -> tuple[date, date, list[tuple[datetime, datetime]]]:
    """[start, end) as whole UTC days [day_from, day_to) plus the partial edges before and after them."""
    def midnight(d: date) -> datetime:
        return datetime.combine(d, time(), UTC)

    start, end = start.astimezone(UTC), end.astimezone(UTC)
    day_from = start.date() if start == midnight(start.date()) else start.date() + timedelta(days=1)
    day_to = end.date()
    if day_from >= day_to:
        return day_from, day_from, [(start, end)] if start < end else []
    edges = [(start, midnight(day_from))] if start < midnight(day_from) else []
    if end > midnight(day_to):
        edges.append((midnight(day_to), end))
    return day_from, day_to, edges


def _edge_params(prefix: str, edges: list[tuple[datetime, datetime]], empty: datetime) -> dict[str, datetime]:
    padded = (edges + [(empty, empty), (empty, empty)])[:2]
    return {f"{prefix}{i}{end}": padded[i - 1][j] for i in (1, 2) for j, end in enumerate("ab")}


async def _revenue(cur: Any, viewer: int, last_start: datetime, this_start: datetime,
                   now: datetime) -> tuple[int, int]:
    """Player win/loss this week and last."""
    this_from, this_to, this_edges = split_days(this_start, now)
    last_from, last_to, last_edges = split_days(last_start, this_start)
    await cur.execute(q.DASH_ROLLUP, {"viewer": viewer, "this_from": this_from, "this_to": this_to,
                                      "last_from": last_from, "last_to": last_to})
    this_days, last_days = await cur.fetchone()
    await cur.execute(q.DASH_EDGES, {"viewer": viewer, **_edge_params("t", this_edges, now),
                                     **_edge_params("l", last_edges, now)})
    this_edge, last_edge = await cur.fetchone()
    return this_days + this_edge, last_days + last_edge


async def online_now(redis: Redis) -> int | None:
    """Sockets online across pushd nodes (each node's ``pushd:nodes`` value carries its counts).

    Counts are book-wide: pushd does not publish per-user presence. None when no node reports.
    """
    nodes = await redis.hgetall(streams.PUSHD_NODES)
    if not nodes:
        return None
    total = 0
    for raw in nodes.values():
        try:
            info = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        if isinstance(info, dict):
            total += int(info.get("users", info.get("sockets", 0)) or 0)
    return total


async def player_dashboard(pool: aiopg.Pool, player_id: int, now: datetime) -> dict[str, Any]:
    """A player's balance, available credit, open bets and the figure of the week running at ``now``."""
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(q.PLAYER_STATE, {"id": player_id})
        row = await cur.fetchone()
        if row is None:
            return {"role": "player", "balance_cents": 0, "available_cents": 0, "open_bets": [], "week": None}
        balance, limit, risk, agent_id, status = row
        schedule = await schedule_for(cur, agent_id)
        start, end = week_bounds(now, schedule, current=True)
        await cur.execute(cq.FIGURE_SINCE, {"id": player_id, "since": start})
        (figure,) = await cur.fetchone()
        await cur.execute(cq.OPEN_BETS, {"id": player_id})
        bets = [{"bet_id": ref, "risk_cents": r, "placed_at": iso(at), "sport": sport, "event": ev}
                for ref, r, at, sport, ev in await cur.fetchall()]
    return {"role": "player", "status": status, "balance_cents": balance, "credit_limit_cents": limit,
            "pending_risk_cents": risk, "available_cents": ledger.available_cents(balance, limit, risk),
            "open_bets": bets, "week": {"start": iso(start), "end": iso(end), "figure_cents": figure}}
