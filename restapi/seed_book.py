"""Several weeks of demo book history, posted through the ledger so every balance reconciles.

For each player: deposits, straight and parlay bets (``bet_risk`` then ``bet_win``/``bet_loss``, some
still open), free play and the odd adjustment, at backdated times; then each past week is closed
and paid so that settlements exist in every state (settled on time and late, partial, pending,
overdue) on whatever weekday the seed runs (see ``SUB_TERMS``). Each bet is a real ``bets`` row with
its legs, and its ledger entries reference it, as a placed bet's do (so history and the dashboard
agree on open bets). Deterministic for a seed and a ``now``, and done once: a second run finds the
``demo history`` entries.
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
ALREADY_SEEDED = "SELECT exists(SELECT 1 FROM ledger_entries WHERE memo = 'demo history')"
TOTALS = {"basketball_nba": 218, "americanfootball_nfl": 43, "icehockey_nhl": 5, "baseball_mlb": 7, "soccer_epl": 2}
BOOKS = ("draftkings", "fanduel", "betmgm", "williamhill_us", "betrivers", "bovada")
INSERT_BET = """
INSERT INTO bets (user_id, agent_id, bet_type, stake_cents, potential_payout_cents, sports, placed_at)
VALUES (%(user_id)s, %(agent_id)s, %(bet_type)s, %(stake_cents)s, %(potential_cents)s, %(sports)s, %(placed_at)s)
RETURNING id
"""
INSERT_LEG = """
INSERT INTO bet_legs (bet_id, leg_no, event_id, sport, league, home_team, away_team, commence_time, market,
                      outcome, point, book, price, price_seen, point_seen)
VALUES (%(bet_id)s, %(leg_no)s, %(event_id)s, %(sport)s, %(league)s, %(home_team)s, %(away_team)s,
        %(commence_time)s, %(market)s, %(outcome)s, %(point)s, %(book)s, %(price)s, %(price)s, %(point)s)
"""
SETTLE_BET = """
UPDATE bets SET status = %(status)s, payout_cents = %(payout_cents)s, settled_at = %(at)s WHERE id = %(bet_id)s
"""
GRADE_LEGS = """
UPDATE bet_legs SET result = CASE WHEN leg_no = %(lost_leg)s THEN 'lost' ELSE 'won' END, graded_at = %(at)s
 WHERE bet_id = %(bet_id)s
"""
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


@dataclass(frozen=True, slots=True)
class SeedLeg:
    """One leg of a seeded bet, as ``bet_legs`` stores it."""

    league: str
    home_team: str
    away_team: str
    market: str
    outcome: str
    point: float | None
    book: str
    price: int


def teams(matchup: str) -> tuple[str, str]:
    """``"Lakers @ Celtics"`` -> (home, away) = (Celtics, Lakers); ``"Arsenal v Chelsea"``: the first is at home."""
    if " @ " in matchup:
        away, home = matchup.split(" @ ")
        return home, away
    home, away = matchup.split(" v ")
    return home, away


def seed_legs(ref: str, sport: str, matchup: str, parlay: bool) -> list[SeedLeg]:
    """The legs of the seeded bet ``ref`` (pure, deterministic by ``ref``).

    Prices match what the history pays: a straight at -110 (wins ``stake * 100 // 110``), a parlay of
    +100 and -125 (decimal 2.0 x 1.8 = 3.6, so it wins ``stake * 26 // 10``).
    """
    rng = random.Random(ref)
    picks = [(sport, matchup)]
    if parlay:
        picks.append(rng.choice([s for s in SPORTS if s[0] != sport]))
    prices = [-110] if not parlay else [100, -125]
    legs = []
    for (league, game), price in zip(picks, prices, strict=True):
        home, away = teams(game)
        market = rng.choice(("h2h", "spreads", "totals"))
        side = rng.random() < 0.5
        point: float | None
        if market == "totals":
            base = TOTALS[league]
            outcome, point = ("Over" if side else "Under"), float(base + rng.randrange(0, base // 20 + 2)) + 0.5
        else:
            outcome = home if side else away
            point = None if market == "h2h" else (-1 if side else 1) * (rng.randrange(1, 12) + 0.5)
        legs.append(SeedLeg(league, home, away, market, outcome, point, rng.choice(BOOKS), price))
    return legs


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


async def _insert_bet(cur: Any, player_id: int, agent_id: int | None, e: Event, start_by: datetime | None) -> int:
    """The ``bets`` row and legs of a seeded ``bet_risk`` event; returns the bet id.

    ``start_by`` (open bets): their games started recently, so the 48-hour no-result rule leaves them open.
    """
    meta = e.meta or {}
    parlay = meta.get("bet_type") == "parlay"
    legs = seed_legs(e.ref or "", meta["sport"], meta["event"], parlay)
    win = e.risk * 26 // 10 if parlay else e.risk * 100 // 110
    sports = sorted({k for leg in legs for k in (leg.league.split("_")[0], leg.league)})
    await cur.execute(INSERT_BET, {"user_id": player_id, "agent_id": agent_id, "bet_type": meta.get("bet_type"),
                                   "stake_cents": e.risk, "potential_cents": e.risk + win, "sports": sports,
                                   "placed_at": e.at})
    (bet_id,) = await cur.fetchone()
    for no, leg in enumerate(legs, 1):
        # The game starts soon after the bet and ends by the time it is graded.
        commence = e.at + timedelta(minutes=30 + 17 * no)
        if start_by is not None:
            commence = max(commence, start_by)
        await cur.execute(INSERT_LEG, {"bet_id": bet_id, "leg_no": no, "event_id": f"{e.ref}-{no}",
                                       "sport": leg.league.split("_")[0], "league": leg.league,
                                       "home_team": leg.home_team, "away_team": leg.away_team,
                                       "commence_time": commence, "market": leg.market, "outcome": leg.outcome,
                                       "point": leg.point, "book": leg.book, "price": leg.price})
    return int(bet_id)


async def _post_history(cur: Any, player_id: int, agent_id: int | None, admin_id: int,
                        events: list[Event], now: datetime) -> datetime | None:
    """Post a player's events in one transaction, skipping bets their credit would not allow."""
    last_bet = None
    graded = {e.ref for e in events if e.kind in ("bet_win", "bet_loss")}
    skipped: set[str] = set()
    bet_ids: dict[str, int] = {}
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
            ref_id: str | int = e.ref or f"seed-{player_id}-{e.kind}-{e.at.timestamp():.0f}"
            if e.kind == "bet_risk" and e.ref:
                start_by = None if e.ref in graded else now - timedelta(hours=2)
                bet_ids[e.ref] = await _insert_bet(cur, player_id, agent_id, e, start_by)
            if e.ref in bet_ids:
                ref_id = bet_ids[e.ref]
            if e.kind in ("bet_win", "bet_loss") and e.ref in bet_ids:
                won = e.kind == "bet_win"
                await cur.execute(SETTLE_BET, {"bet_id": ref_id, "status": "won" if won else "lost", "at": e.at,
                                               "payout_cents": e.amount - e.risk if won else 0})
                await cur.execute(GRADE_LEGS, {"bet_id": ref_id, "at": e.at, "lost_leg": 0 if won else 1})
            entry = await ledger.post(cur, account_id=player_id, amount_cents=e.amount, risk_cents=e.risk,
                                      kind=e.kind, ref_type="bet" if e.ref else "cashier", ref_id=ref_id,
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
            for player_id, agent, _limit in await cur.fetchall():
                await _post_history(cur, player_id, agent, admin_id, player_history(rng, player_id, start, now), now)
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
