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
from restapi.agent.common import Window, iso, owner_schedule
from restapi.agent.cycles import schedule_for, shift, week_bounds
from shared import streams
from shared.redis import Redis

PAGE = 1000
PERF_HEADER = ("Group", "Key", "Bets", "Handle ($)", "Player win/loss ($)", "Book win ($)", "Hold %")
CUSTOMER_HEADER = ("Player ID", "Login", "Name", "Agent ID", "Agent", "Status", "Bets", "Stake ($)",
                   "Win/loss ($)", "Net ($)", "Deposits ($)", "Withdrawals ($)", "Last bet", "Last active")
DASHBOARD_KEY = "agent:dashboard:{viewer}:{owner}"
EXPOSURE_ROWS = 10
DIMENSIONS = {"day": "Day", "sport": "Sport", "bet_type": "Bet type", "total": "Total"}


def dollars(cents: int) -> str:
    """Cents as dollars with two decimals for a spreadsheet: -1234 -> "-12.34" (no symbol, no separators)."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def perf_line(dimension: str, key: str, bets: int, handle: int, winloss: int) -> dict[str, Any]:
    """One performance line: the book's win is the player's loss; hold = book win / handle."""
    return {"dimension": dimension, "key": key, "bets": bets, "handle_cents": handle,
            "player_winloss_cents": winloss, "book_win_cents": -winloss,
            "hold_pct": round(-winloss * 100 / handle, 2) if handle else None}


async def performance(pool: aiopg.Pool, viewer: int, window: Window) -> dict[str, Any]:
    """Handle, hold and win/loss by business day, sport and bet type over the window's days."""
    params = {"viewer": viewer, "start": window.starts_at, "end": window.ends_at, "owner": window.owner,
              "bounds": window.bounds}
    out: dict[str, Any] = window.json()
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(q.PERF_BY_DAY, params)
        out["by_day"] = [perf_line("day", (window.first + timedelta(days=n - 1)).isoformat(), *rest)
                         for n, *rest in await cur.fetchall()]
        for name, dimension, sql in (("by_sport", "sport", q.PERF_BY_SPORT),
                                     ("by_bet_type", "bet_type", q.PERF_BY_BET_TYPE)):
            await cur.execute(sql, params)
            out[name] = [perf_line(dimension, *row) for row in await cur.fetchall()]
    days = out["by_day"]
    out["totals"] = perf_line("total", "all", sum(d["bets"] for d in days), sum(d["handle_cents"] for d in days),
                              sum(d["player_winloss_cents"] for d in days))
    return out


def performance_rows(report: dict[str, Any]) -> Iterable[list[Any]]:
    """The performance report as CSV rows (after the header): plain words, dollars, ISO dates."""
    for name in ("by_day", "by_sport", "by_bet_type"):
        for line in report[name]:
            yield _perf_csv(line)
    yield _perf_csv(report["totals"])


def _perf_csv(line: dict[str, Any]) -> list[Any]:
    return [DIMENSIONS[line["dimension"]], line["key"], line["bets"], dollars(line["handle_cents"]),
            dollars(line["player_winloss_cents"]), dollars(line["book_win_cents"]),
            "" if line["hold_pct"] is None else f"{line['hold_pct']:.2f}"]


def customer_csv(row: dict[str, Any]) -> list[Any]:
    """One customer activity row for the CSV: money in dollars, times as ISO text."""
    return [row["player_id"], row["login"], row["display_name"], row["agent_id"], row["agent_login"], row["status"],
            row["bets"], *(dollars(row[k]) for k in ("stake_cents", "player_winloss_cents", "net_cents",
                                                      "deposits_cents", "withdrawals_cents")),
            row["last_bet_at"], row["last_active_at"]]


async def customer_pages(pool: aiopg.Pool, viewer: int, window: Window) -> AsyncIterator[list[dict[str, Any]]]:
    """Customer activity over the window in pages of ``PAGE`` players, ordered by id."""
    after = 0
    async with pool.acquire() as conn, conn.cursor() as cur:
        while True:
            await cur.execute(q.CUSTOMER_ACTIVITY, {"viewer": viewer, "start": window.starts_at,
                                                    "end": window.ends_at, "owner": window.owner,
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


def exposure_rows(rows: list[tuple[str, int, int]], keep: int = EXPOSURE_ROWS) -> list[dict[str, Any]]:
    """Open risk by event, largest first; past ``keep`` rows the rest are summed into one, so the rows
    always add up to the whole open risk."""
    if len(rows) > keep:
        rest = rows[keep - 1:]
        rows = [*rows[:keep - 1], (f"{len(rest)} other events", sum(r[1] for r in rest), sum(r[2] for r in rest))]
    return [{"event": ev or "Event not recorded", "open_risk_cents": risk, "bets": n} for ev, risk, n in rows]


async def agent_dashboard(pool: aiopg.Pool, redis: Redis, viewer: int, ttl: float, now: datetime,
                          owner: int | None = None) -> dict[str, Any]:
    """Revenue this and last week, players, open settlements by state, open risk and exposure by event
    (cached ``ttl`` s per viewer and owner filter)."""
    key = DASHBOARD_KEY.format(viewer=viewer, owner=owner or "all")
    if ttl > 0:
        cached = await redis.get(key)
        if cached is not None:
            return {**orjson.loads(cached), "cached": True}
    base = {"viewer": viewer, "owner": owner}
    async with pool.acquire() as conn, conn.cursor() as cur:
        schedule = await owner_schedule(cur, viewer, owner)
        this_start, this_end = week_bounds(now, schedule, current=True)
        last_start = shift(this_start, schedule, -1)
        this_net, last_net = await _players_net(cur, base, last_start, this_start, now)
        await cur.execute(q.BOOK_TOTALS, {**base, "active_since": now - timedelta(days=7)})
        players, active_accounts, balances, open_risk, active = await cur.fetchone()
        await cur.execute(q.SETTLEMENT_TOTALS, {**base, "now": now})
        pending, pending_cents, partial, partial_cents, overdue, overdue_cents = await cur.fetchone()
        await cur.execute(q.EXPOSURE_BY_EVENT, base)
        exposure = exposure_rows(await cur.fetchall())
    result = {
        "week": {"start": iso(this_start), "end": iso(this_end), "last_start": iso(last_start),
                 "timezone": schedule.timezone},
        "revenue": {"this_week_cents": -this_net, "last_week_cents": -last_net},
        "players": {"total": players, "active_accounts": active_accounts, "active_7d": active,
                    "online_now": await online_now(redis)},
        "balances_cents": balances,
        "settlements": {"pending": pending, "pending_cents": pending_cents, "partial": partial,
                        "partial_cents": partial_cents, "overdue": overdue, "overdue_cents": overdue_cents},
        "exposure": {"open_risk_cents": open_risk, "by_event": exposure},
        "agent_id": owner,
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


async def _players_net(cur: Any, base: dict[str, Any], last_start: datetime, this_start: datetime,
                       now: datetime) -> tuple[int, int]:
    """The players' net (bet results, free play, adjustments) this week so far and last week."""
    this_from, this_to, this_edges = split_days(this_start, now)
    last_from, last_to, last_edges = split_days(last_start, this_start)
    await cur.execute(q.DASH_ROLLUP, {**base, "this_from": this_from, "this_to": this_to,
                                      "last_from": last_from, "last_to": last_to})
    this_days, last_days = await cur.fetchone()
    await cur.execute(q.DASH_EDGES, {**base, **_edge_params("t", this_edges, now),
                                     **_edge_params("l", last_edges, now)})
    this_edge, last_edge = await cur.fetchone()
    await cur.execute(q.DASH_EXTRAS, {**base, "last_start": last_start, "this_start": this_start, "now": now})
    this_extra, last_extra = await cur.fetchone()
    return this_days + this_edge + this_extra, last_days + last_edge + last_extra


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
    """A player's balance, available credit, open bets and this week's figure."""
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
