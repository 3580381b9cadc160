"""Grading and settling bets in PostgreSQL, with their ledger entries in the same transaction.

``grade_event`` grades every pending leg of one event from its final score and settles each bet
whose outcome is now known (a lost leg settles a parlay at once; otherwise the last leg does).
Grading the same result twice changes nothing: graded legs are no longer pending and settled bets
no longer open. ``regrade`` lets an admin or a master agent set leg results by hand: it reverses the
bet's settlement with contra entries, settles it again, and writes an audit row with the reason.
``correct_score`` regrades every bet in the caller's book with a leg on an event from a corrected final
score. Both refuse a sub-agent (403) and a game that has not started (409): no result exists yet.

Lock order, everywhere: legs (an event's pending legs, or a regraded bet's legs), then bets by id,
then accounts by id (the ledger), so two graders, or a grader and a regrade, do not deadlock.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiopg
import orjson

from restapi import ledger
from restapi.betting import queries as q
from restapi.betting.grading import FinalScore, GradingError, grade
from restapi.betting.rows import Bet, LockedBet, SettleLeg
from restapi.betting.service import bet_json, fetch_legs, notify
from shared.clock import utc_now
from shared.db import Cursor
from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shared.odds import Leg, settle
from shared.redis import Redis

log = logging.getLogger(__name__)

SELECT_LEG_RESULTS = """
SELECT l.bet_id, l.leg_no, l.price, l.result, l.league FROM bet_legs l
 WHERE l.bet_id = ANY(%(bet_ids)s) ORDER BY l.bet_id, l.leg_no
"""
GRADE_LEGS = """
UPDATE bet_legs l SET result = x.result, graded_at = now()
  FROM unnest(%(bet_ids)s::bigint[], %(leg_nos)s::smallint[], %(results)s::text[]) AS x (bet_id, leg_no, result)
 WHERE l.bet_id = x.bet_id AND l.leg_no = x.leg_no
"""


@dataclass(frozen=True, slots=True)
class Settled:
    """A bet that was just settled, for the ``bet.graded`` notification."""

    bet_id: int
    user_id: int
    status: str
    stake_cents: int
    payout_cents: int
    balance_cents: int

    def notice(self) -> dict[str, Any]:
        return {"bet_id": self.bet_id, "status": self.status, "stake_cents": self.stake_cents,
                "payout_cents": self.payout_cents, "balance_cents": self.balance_cents}


def ledger_move(status: str, stake: int, payout: int) -> tuple[str, int, int]:
    """(kind, amount_cents, risk_cents) settling a bet: win credits the profit, loss the stake,
    push/void only release the held stake."""
    if status == "won":
        return "bet_win", payout - stake, -stake
    if status == "lost":
        return "bet_loss", -stake, -stake
    return "bet_release", 0, -stake


def _meta(bet_type: str, leagues: set[str]) -> dict[str, str]:
    return {"sport": next(iter(leagues)) if len(leagues) == 1 else "mixed", "bet_type": bet_type}


async def _leg_results(cur: Cursor, bet_ids: list[int]) -> dict[int, list[SettleLeg]]:
    legs: dict[int, list[SettleLeg]] = {b: [] for b in bet_ids}
    await cur.execute(SELECT_LEG_RESULTS, {"bet_ids": bet_ids})
    for row in await cur.fetchall():
        leg = SettleLeg._make(row)
        legs[leg.bet_id].append(leg)
    return legs


async def _lock_bets(cur: Cursor, bet_ids: Sequence[int]) -> list[LockedBet]:
    """Lock ``bet_ids`` (in id order, see the lock order above) and read them."""
    await cur.execute(q.LOCK_BETS, {"bet_ids": sorted(bet_ids)})
    return [LockedBet._make(row) for row in await cur.fetchall()]


async def settle_bets(cur: Cursor, bet_ids: Sequence[int]) -> list[Settled]:
    """Settle each open bet of ``bet_ids`` whose outcome is known; post its ledger entry."""
    if not bet_ids:
        return []
    bets = [bet for bet in await _lock_bets(cur, bet_ids) if bet.status == "open"]
    legs = await _leg_results(cur, [bet.id for bet in bets])
    todo = []
    for bet in bets:
        outcome = settle(bet.stake_cents, [Leg(leg.price, leg.result) for leg in legs[bet.id]])
        if outcome is not None:
            todo.append((bet, outcome, {leg.league for leg in legs[bet.id]}))
    settled = []
    for bet, (status, payout), leagues in sorted(todo, key=lambda t: (t[0].user_id, t[0].id)):
        await cur.execute(q.SETTLE_BET, {"bet_id": bet.id, "status": status, "payout_cents": payout})
        kind, amount, risk = ledger_move(status, bet.stake_cents, payout)
        entry = await ledger.post(cur, account_id=bet.user_id, amount_cents=amount, risk_cents=risk, kind=kind,
                                  ref_type="bet", ref_id=bet.id, meta=_meta(bet.bet_type, leagues))
        settled.append(Settled(bet.id, bet.user_id, status, bet.stake_cents, payout, entry.balance_after))
    return settled


async def grade_event(pool: aiopg.Pool, redis: Redis, event_id: str, status: str, home: int | None,
                      away: int | None) -> list[Settled]:
    """Grade every pending leg of ``event_id`` and settle what that decides; notify the bettors."""
    async with pool.acquire() as conn, conn.cursor() as cur:
        async with cur.begin():
            await cur.execute(q.LOCK_PENDING_LEGS, {"event_id": event_id})
            graded: list[tuple[int, int, str]] = []
            for bet_id, leg_no, market, outcome, point, home_team, away_team in await cur.fetchall():
                try:
                    result = grade(market, outcome, point, FinalScore(home_team, away_team, status, home, away))
                except GradingError as exc:  # left pending for a regrade by hand
                    log.error("cannot grade leg %s/%s of event %s: %s", bet_id, leg_no, event_id, exc)
                    continue
                graded.append((bet_id, leg_no, result))
            if graded:
                await cur.execute(GRADE_LEGS, {"bet_ids": [g[0] for g in graded], "leg_nos": [g[1] for g in graded],
                                               "results": [g[2] for g in graded]})
            settled = await settle_bets(cur, sorted({g[0] for g in graded}))
    for s in settled:
        await notify(redis, s.user_id, "bet.graded", s.notice())
    if graded:
        log.info("graded %d leg(s) of event %s, settled %d bet(s)", len(graded), event_id, len(settled))
    return settled


async def sweep(pool: aiopg.Pool, redis: Redis, limit: int = 100, void_after_hours: float | None = None,
                now: datetime | None = None) -> int:
    """Grade pending legs of events the catalog already has as final or cancelled, and, with
    ``void_after_hours``, void those of games with no result that long before ``now`` after their
    start (the house rule for postponed or abandoned games); returns events seen."""
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(q.SELECT_STALE_EVENTS, {"limit": limit})
        events = list(await cur.fetchall())
        if void_after_hours is not None:
            now = now or utc_now()
            await cur.execute(q.SELECT_UNPLAYED_EVENTS, {"hours": void_after_hours, "limit": limit, "now": now})
            unplayed = [row[0] for row in await cur.fetchall()]
            if unplayed:
                log.warning("voiding bets on %d game(s) with no result %s h after their start: %s",
                            len(unplayed), void_after_hours, ", ".join(unplayed[:10]))
            events += [(event_id, "cancelled", None, None) for event_id in unplayed]
            await cur.execute(q.CANCEL_UNPLAYED_EVENTS, {"hours": void_after_hours, "events": unplayed,
                                                         "now": now})
            cancelled = [row[0] for row in await cur.fetchall()]
            if cancelled:
                log.info("catalog: %d game(s) with no result %s h after their start are now cancelled",
                         len(cancelled), void_after_hours)
    for event_id, status, home, away in events:
        await grade_event(pool, redis, event_id, status, home, away)
    return len(events)


async def check_may_regrade(cur: Any, actor_id: int) -> None:
    """403 unless ``actor_id`` is an admin or a master agent (sub-agents may not correct results)."""
    await cur.execute(q.SELECT_MAY_REGRADE, {"actor_id": actor_id})
    row = await cur.fetchone()
    if row is None or not row[0]:
        raise Forbidden("Results are corrected by an admin or a master agent, not by a sub-agent",
                        code="regrade_not_allowed")


async def regrade(pool: aiopg.Pool, redis: Redis, actor_id: int, bet_id: int, reason: str,
                  results: dict[int, str], now: datetime, *, checked: bool = False) -> dict[str, Any]:
    """Set leg results by hand and re-settle the bet (contra entries reverse the old settlement).

    Only an admin or a master agent may, and only on legs whose game has started by ``now``
    (``checked``: ``correct_score`` did both checks already).
    """
    async with pool.acquire() as conn, conn.cursor() as cur:
        async with cur.begin():
            if not checked:
                await check_may_regrade(cur, actor_id)
            await cur.execute(q.SELECT_BET_IN_SCOPE, {"bet_id": bet_id, "viewer": actor_id})
            if await cur.fetchone() is None:
                raise NotFound("No such bet in your book", code="bet_not_found")
            if not checked:
                graded = sorted(n for n, r in results.items() if r != "pending")
                await cur.execute(q.SELECT_LEGS_NOT_STARTED, {"bet_id": bet_id, "leg_nos": graded, "now": now})
                early = await cur.fetchall()
                if early:
                    raise Conflict("A game on this bet has not started: it has no result to correct yet",
                                   code="event_not_started",
                                   details={"legs": [{"leg_no": n, "event_id": e} for n, e in early]})
            await cur.execute(q.LOCK_BET_LEGS, {"bet_id": bet_id})
            (bet,) = await _lock_bets(cur, [bet_id])
            bet_type, status, stake, payout, user_id = (bet.bet_type, bet.status, bet.stake_cents, bet.payout_cents,
                                                        bet.user_id)
            legs = (await _leg_results(cur, [bet_id]))[bet_id]
            unknown = sorted(set(results) - {leg.leg_no for leg in legs})
            if unknown:
                raise ValidationFailed("No such leg on this bet", code="unknown_leg",
                                       details={"legs": unknown, "leg_count": len(legs)})
            before = {"status": status, "payout_cents": payout, "legs": {str(leg.leg_no): leg.result for leg in legs}}
            new_legs = [leg._replace(result=results.get(leg.leg_no, leg.result)) for leg in legs]  # type: ignore[arg-type]
            leagues = {leg.league for leg in legs}
            outcome = settle(stake, [Leg(leg.price, leg.result) for leg in new_legs])
            for leg in new_legs:
                await cur.execute(q.SET_LEG_RESULT, {"bet_id": bet_id, "leg_no": leg.leg_no, "result": leg.result})
            changed = outcome != (None if status == "open" else (status, payout))
            if changed and status != "open":
                assert payout is not None, "a settled bet has its payout"  # CHECK bets_settled_has_payout
                kind, amount, risk = ledger_move(status, stake, payout)
                await ledger.post(cur, account_id=user_id, amount_cents=-amount, risk_cents=-risk, kind=kind,
                                  ref_type="bet", ref_id=bet_id, actor_id=actor_id, memo=f"regrade: {reason}",
                                  meta={**_meta(bet_type, leagues), "regrade": "reversal"}, override=True)
                await cur.execute(q.UNSETTLE_BET, {"bet_id": bet_id})
            settled: list[Settled] = []
            if changed and outcome is not None:
                settled = await settle_bets(cur, [bet_id])
            await cur.execute(q.MARK_REGRADED, {"bet_id": bet_id})
            after = {"status": outcome[0] if outcome else "open", "payout_cents": outcome[1] if outcome else None,
                     "legs": {str(leg.leg_no): leg.result for leg in new_legs}, "reason": reason}
            await cur.execute(q.INSERT_AUDIT, {"actor_id": actor_id, "action": "bet.regrade", "bet_id": bet_id,
                                               "before": orjson.dumps(before).decode(),
                                               "after": orjson.dumps(after).decode()})
            await cur.execute(q.SELECT_OWN_BET, {"bet_id": bet_id, "user_id": user_id})
            body = bet_json(Bet._make(await cur.fetchone()), (await fetch_legs(cur, [bet_id]))[bet_id])
    for s in settled:
        await notify(redis, s.user_id, "bet.graded", {**s.notice(), "regraded": True})
    if changed and not settled:
        await notify(redis, user_id, "bet.graded", {"bet_id": bet_id, "status": body["status"], "regraded": True})
    return body


async def correct_score(pool: aiopg.Pool, redis: Redis, actor_id: int, event_id: str, reason: str, status: str,
                        home: int | None, away: int | None, now: datetime) -> dict[str, Any]:
    """Regrade, from a corrected result, every bet in ``actor_id``'s book with a leg on ``event_id``.

    Only an admin or a master agent may (403), and only for a game that has started by ``now`` (409).
    Each bet is regraded in its own transaction (``regrade``: contra entries, audit row), so a
    correction of a busy event does not hold every bettor's account at once; running the same
    correction again changes no money, so an interrupted one is finished by sending it again.
    """
    async with pool.acquire() as conn, conn.cursor() as cur:
        await check_may_regrade(cur, actor_id)
        await cur.execute(q.SELECT_EVENT_STARTED, {"event_id": event_id, "now": now})
        started = (await cur.fetchone())[0]
        if started is None:
            raise NotFound("No such event", code="event_not_found")
        if not started:
            raise Conflict("This game has not started: it has no result to correct yet", code="event_not_started",
                           details={"event_id": event_id})
        await cur.execute(q.SELECT_EVENT_LEGS_IN_SCOPE, {"event_id": event_id, "viewer": actor_id})
        rows = await cur.fetchall()
    results: dict[int, dict[int, str]] = {}
    ungradable: list[dict[str, Any]] = []
    for bet_id, leg_no, market, outcome, point, home_team, away_team in rows:
        try:
            results.setdefault(bet_id, {})[leg_no] = grade(
                market, outcome, point, FinalScore(home_team, away_team, status, home, away))
        except GradingError as exc:
            ungradable.append({"bet_id": bet_id, "leg_no": leg_no, "reason": str(exc)})
    bets = []
    for bet_id, legs in results.items():
        body = await regrade(pool, redis, actor_id, bet_id, reason, legs, now, checked=True)
        bets.append({"bet_id": bet_id, "status": body["status"], "payout_cents": body["payout_cents"]})
    answer = {"event_id": event_id, "status": status, "home_score": home, "away_score": away, "bets": bets,
              "ungradable": ungradable}
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(q.INSERT_EVENT_AUDIT, {"actor_id": actor_id, "after": orjson.dumps(
            {**answer, "reason": reason, "bets": len(bets)}).decode()})
    log.info("score of event %s corrected: %d bet(s) regraded", event_id, len(bets))
    return answer
