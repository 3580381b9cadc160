"""Several weeks of demo book history, posted through the ledger so every balance reconciles.

For each player: deposits, straight and parlay bets (``bet_risk`` then ``bet_win``/``bet_loss``, some
still open), free play and the odd adjustment, at backdated times; then each past week is closed
and paid so that settlements exist in every state (settled on time and late, partial, pending,
overdue) on whatever weekday the seed runs (see ``SUB_TERMS``). Deterministic for a seed and a
``now``, and done once: a second run finds the ``seed-`` entries.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import aiopg

from restapi import ledger
from restapi.agent import settlements
from restapi.agent.cycles import Schedule, last_close, schedule_for, shift

WEEKS = 6
METHODS = ("cash", "bank_transfer", "card", "crypto", "other")
SPORTS = (("basketball_nba", "Lakers @ Celtics"), ("americanfootball_nfl", "Chiefs @ Bills"),
          ("icehockey_nhl", "Rangers @ Bruins"), ("baseball_mlb", "Dodgers @ Yankees"),
          ("soccer_epl", "Arsenal v Chelsea"))
ALREADY_SEEDED = "SELECT exists(SELECT 1 FROM ledger_entries WHERE ref_id LIKE 'seed-%%')"
PLAYERS = """
SELECT u.id, u.agent_id, u.credit_limit_cents FROM users u WHERE u.role = 'player' ORDER BY u.id
"""
AGENTS = "SELECT id FROM users WHERE role = 'agent' ORDER BY id"
SET_SCHEDULE = """
INSERT INTO agent_settings (agent_id, timezone, close_dow, close_time, due_days)
VALUES (%(agent_id)s, %(timezone)s, %(close_dow)s, %(close_time)s, %(due_days)s)
ON CONFLICT (agent_id) DO NOTHING
"""
SET_LAST_ACTIVE = "UPDATE users SET last_active_at = %(at)s WHERE id = %(id)s"
CYCLE_SETTLEMENTS = """
SELECT s.id, s.figure_cents, c.week_end, c.due_at FROM settlements s
  JOIN settlement_cycles c ON c.id = s.cycle_id WHERE c.agent_id = %(agent_id)s ORDER BY c.week_end, s.id
"""


# The master closes Tuesday 00:00 UTC and wants paying within two days, so its latest week is
# pending Tuesday to Thursday and overdue after. The sub-agent closes Tuesday 06:00 New York time
# and gives a week, due at its next close, so its latest week is pending on every day: an agent
# trying the demo on any weekday sees settlements in every state.
MASTER_TERMS = Schedule(timezone="UTC", close_time=time(0), due_days=2)
SUB_TERMS = Schedule(timezone="America/New_York", close_time=time(6), due_days=7)


@dataclass(frozen=True, slots=True)
class Event:
    """One backdated posting of the generated history."""

    at: datetime
    kind: str
    amount: int
    risk: int = 0
    ref: str | None = None
    meta: dict[str, str] | None = None


def player_history(rng: random.Random, player_id: int, start: datetime, now: datetime) -> list[Event]:
    """A player's weeks of activity, in time order (pure: no I/O)."""
    events: list[Event] = []
    weeks = max(1, (now - start).days // 7 + 1)
    for week in range(weeks):
        base = start + timedelta(days=7 * week)
        if rng.random() < 0.35:
            events.append(Event(base + timedelta(hours=rng.randrange(1, 48)), "deposit", rng.randrange(5, 40) * 1000))
        if rng.random() < 0.15:
            events.append(Event(base + timedelta(hours=rng.randrange(1, 100)), "free_play", rng.randrange(1, 6) * 500))
        for n in range(rng.randrange(2, 9)):
            placed = base + timedelta(minutes=rng.randrange(0, 7 * 24 * 60))
            if placed >= now:
                continue
            sport, event = rng.choice(SPORTS)
            parlay = rng.random() < 0.2
            stake = rng.randrange(1, 30) * 500
            ref = f"seed-{player_id}-{week}-{n}"
            meta = {"sport": sport, "event": event, "bet_type": "parlay" if parlay else "straight"}
            events.append(Event(placed, "bet_risk", 0, stake, ref, meta))
            graded = placed + timedelta(hours=rng.randrange(2, 60))
            if graded >= now:
                continue  # still open: its risk stays held
            won = rng.random() < (0.3 if parlay else 0.48)
            win = stake * 26 // 10 if parlay else stake * 100 // 110
            events.append(Event(graded, "bet_win" if won else "bet_loss", win if won else -stake, -stake, ref, meta))
        if rng.random() < 0.05:
            events.append(Event(base + timedelta(hours=rng.randrange(1, 160)), "adjustment",
                                rng.choice([-1, 1]) * rng.randrange(1, 10) * 100))
    return sorted((e for e in events if e.at < now), key=lambda e: (e.at, e.kind != "bet_risk"))


async def _post_history(cur: Any, player_id: int, admin_id: int, events: list[Event]) -> datetime | None:
    """Post a player's events in one transaction, skipping bets their credit would not allow."""
    last_bet = None
    skipped: set[str] = set()
    async with cur.begin():
        await cur.execute("SELECT balance_cents, credit_limit_cents, pending_risk_cents FROM users "
                          "WHERE id = %(id)s", {"id": player_id})
        balance, limit, risk = await cur.fetchone()
        for e in events:
            if e.ref in skipped:
                continue
            if e.kind == "bet_risk" and ledger.available_cents(balance, limit, risk) < e.risk:
                skipped.add(e.ref or "")
                continue
            entry = await ledger.post(cur, account_id=player_id, amount_cents=e.amount, risk_cents=e.risk,
                                      kind=e.kind, ref_type="bet" if e.ref else "cashier",
                                      ref_id=e.ref or f"seed-{player_id}-{e.kind}-{e.at.timestamp():.0f}",
                                      actor_id=None if e.ref else admin_id, memo="demo history",
                                      meta=e.meta, override=e.kind == "adjustment", at=e.at)
            balance, risk = entry.balance_after, entry.risk_after
            if e.kind == "bet_risk":
                last_bet = e.at
        if last_bet is not None:
            await cur.execute(SET_LAST_ACTIVE, {"id": player_id, "at": last_bet})
    return last_bet


async def _pay_history(pool: aiopg.Pool, agent_id: int, rng: random.Random, now: datetime) -> None:
    """Pay past settlements so every state shows: on time, late, partial, pending and overdue."""
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(CYCLE_SETTLEMENTS, {"agent_id": agent_id})
        rows = await cur.fetchall()
    latest = max((r[2] for r in rows), default=None)
    for sid, figure, week_end, due_at in rows:
        owed = abs(figure)
        roll = rng.random()
        method = rng.choice(METHODS)
        body = {"method": method, "reference": "demo" if method == "other" else ""}
        if week_end == latest:  # the week just closed: mostly still pending
            if roll < 0.25:
                await settlements.pay(pool, agent_id, sid, {**body, "amount_cents": owed},
                                      at=min(now, week_end + timedelta(hours=6)))
            continue
        if roll < 0.6:
            on_time = week_end + timedelta(hours=20)
            await settlements.pay(pool, agent_id, sid, {**body, "amount_cents": owed}, at=on_time)
        elif roll < 0.75:
            # Never in the future: with a week's terms the previous week fell due at the latest close.
            late = min(due_at + timedelta(days=1), now - timedelta(minutes=1))
            await settlements.pay(pool, agent_id, sid, {**body, "amount_cents": owed}, at=late)
        elif roll < 0.9 and owed > 1:
            await settlements.pay(pool, agent_id, sid, {**body, "amount_cents": owed // 2}, at=due_at)
        # else: left open, so overdue


def history_start(now: datetime) -> datetime:
    """When the generated history begins (opening balances are posted just before)."""
    return shift(last_close(now, Schedule()), Schedule(), -WEEKS)


async def seed_history(dsn: str, admin_id: int, seed: int = 7, now: datetime | None = None) -> bool:
    """Generate the book's history once; False when it is already there."""
    now = now or datetime.now(UTC)
    rng = random.Random(seed)
    pool = await aiopg.create_pool(dsn, minsize=1, maxsize=2)
    try:
        async with pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(ALREADY_SEEDED)
            if (await cur.fetchone())[0]:
                return False
            await cur.execute(AGENTS)
            agents = [a for (a,) in await cur.fetchall()]
            for i, agent_id in enumerate(agents):
                terms = MASTER_TERMS if i == 0 else SUB_TERMS
                await cur.execute(SET_SCHEDULE, {"agent_id": agent_id, "timezone": terms.timezone,
                                                 "close_dow": terms.close_dow, "close_time": terms.close_time,
                                                 "due_days": terms.due_days})
            schedules: dict[int, Schedule] = {a: await schedule_for(cur, a) for a in agents}
            start = history_start(now)
            await cur.execute(PLAYERS)
            for player_id, _agent, _limit in await cur.fetchall():
                await _post_history(cur, player_id, admin_id, player_history(rng, player_id, start, now))
        for agent_id in agents:
            schedule = schedules[agent_id]
            end = last_close(now, schedule)
            closes = [shift(end, schedule, -k) for k in range(WEEKS - 1, -1, -1)]
            for close in closes:
                await settlements.close_week(pool, agent_id, close, schedule, now=close)
            await _pay_history(pool, agent_id, rng, now)
    finally:
        pool.close()
        await pool.wait_closed()
    return True
