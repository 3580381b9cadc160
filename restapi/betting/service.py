"""Placing bets (one transaction, idempotent per user and key), reading them back, notifying users.

A placement runs, in one transaction: lock the account row (``FOR UPDATE``: every placement and
ledger posting of the account queues here, so a retry with the same key waits for a first attempt
still in flight, then finds its stored answer and replays it), read the current lines, check the
price policy, the stake limits and the credit, insert the bet, its legs and the answer to the key
(unique per user), and post the ``bet_risk`` ledger entry. A refused request rolls back and leaves
the key unused. Two round trips in all (``shared.db.Transaction``): BEGIN with the lock and every
read (``queries.OPEN_PLACEMENT``, read as ``rows.PlacementOpen``), then the inserts, the ledger entry
and COMMIT in one message; the SQL halves are functions (sql/0015_placement_functions.sql) so
PostgreSQL keeps their plans.

The account is locked first on purpose: the inserts take a KEY SHARE lock on the account through
their foreign keys, and taking FOR UPDATE after that would deadlock two concurrent placements.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import aiopg
import orjson
from prometheus_client import Counter
from redis.exceptions import RedisError

from restapi import ledger
from restapi.betting import pricing
from restapi.betting import queries as q
from restapi.betting.rows import Bet, PlacementOpen
from restapi.config import RestSettings
from restapi.switches import store as switch_store
from restapi.switches.model import Board, Leg
from shared import streams
from shared.db import Cursor, Statement, Transaction
from shared.errors import Forbidden, NotFound, ValidationFailed
from shared.odds import parlay_payout, straight_payout
from shared.redis import Redis

log = logging.getLogger(__name__)
BETS_PLACED = Counter("bets_placed_total", "Bets accepted (first answers, not replays)", ["type"])
BETS_STAKE = Counter("bets_stake_cents_total", "Stakes of accepted bets, in cents", ["type"])


@dataclass(frozen=True, slots=True)
class BetRequest:
    """A validated ``POST betting/bets`` body."""

    bet_type: str
    stake_cents: int
    picks: tuple[pricing.Pick, ...]

    def digest(self) -> str:
        """sha256 of the request's meaning (field order and number spelling do not matter)."""
        legs = [[p.event_id, p.market, p.outcome, None if p.point is None else str(p.point.normalize()), p.book,
                 p.price] for p in self.picks]
        return hashlib.sha256(orjson.dumps([self.bet_type, self.stake_cents, legs])).hexdigest()


def pick_from(data: dict[str, Any]) -> pricing.Pick:
    """A ``Pick`` from a validated selection."""
    return pricing.Pick(event_id=data["event_id"], market=data["market"], outcome=data["outcome"],
                        point=data.get("point"), book=data.get("book"), price=data.get("price"))


def bet_request(data: dict[str, Any]) -> BetRequest:
    """A ``BetRequest`` from a validated body."""
    return BetRequest(data["type"], data["stake_cents"], tuple(pick_from(s) for s in data["selections"]))


def parse_offers(picks: Sequence[pricing.Pick], rows: list[list[Any]]) -> dict[tuple[str, str, str], pricing.Offer]:
    """The offers of ``picks`` from the JSON rows of ``queries.SELECT_OFFERS``."""
    offers = {p.triple: pricing.Offer() for p in picks}
    for (event_id, market, outcome, sport, league, home, away, commence, status, is_open, live_bettable, book, price,
         point, last_update) in rows:
        offer = offers[(event_id, market, outcome)]
        if offer.event is None:
            offer.event = pricing.EventInfo(event_id, sport, league, home, away, datetime.fromisoformat(commence),
                                            status)
        if is_open is not None:
            offer.market = pricing.MarketInfo(is_open, live_bettable)
        if book is not None:
            offer.prices[book] = pricing.Price(price, None if point is None else Decimal(str(point)),
                                               datetime.fromisoformat(last_update))
    return offers


def _offer_params(picks: Sequence[pricing.Pick]) -> dict[str, list[str]]:
    return {"events": [p.event_id for p in picks], "markets": [p.market for p in picks],
            "outcomes": [p.outcome for p in picks]}


async def load_offers(cur: Cursor, picks: Sequence[pricing.Pick]) -> dict[tuple[str, str, str], pricing.Offer]:
    """What the catalog says now about each pick, in one query."""
    await cur.execute(q.SELECT_OFFERS, _offer_params(picks))
    (rows,) = await cur.fetchone()
    return parse_offers(picks, rows)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def leg_json(row: Sequence[Any]) -> dict[str, Any]:
    """A ``LEG_COLUMNS`` row (without bet_id) as API JSON."""
    (leg_no, event_id, sport, league, home, away, commence, market, outcome, point, book, price, price_seen,
     point_seen, live, result, graded_at) = row
    return {"leg_no": leg_no, "event_id": event_id, "sport": sport, "league": league, "home_team": home,
            "away_team": away, "commence_time": _iso(commence), "market": market, "outcome": outcome,
            "point": _num(point), "book": book, "price": price, "price_seen": price_seen,
            "point_seen": _num(point_seen), "live": live, "result": result, "graded_at": _iso(graded_at)}


def bet_json(bet: Bet, legs: list[dict[str, Any]]) -> dict[str, Any]:
    """A bet and its legs as API JSON."""
    return {"id": bet.id, "type": bet.bet_type, "status": bet.status, "stake_cents": bet.stake_cents,
            "potential_payout_cents": bet.potential_payout_cents, "payout_cents": bet.payout_cents,
            "placed_at": _iso(bet.placed_at), "settled_at": _iso(bet.settled_at),
            "regraded_at": _iso(bet.regraded_at), "legs": legs}


async def fetch_legs(cur: Cursor, bet_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The legs of ``bet_ids`` as JSON, by bet id."""
    legs: dict[int, list[dict[str, Any]]] = {b: [] for b in bet_ids}
    if bet_ids:
        await cur.execute(q.SELECT_LEGS, {"bet_ids": bet_ids})
        for bet_id, *leg, book_title in await cur.fetchall():
            legs[bet_id].append({**leg_json(leg), "book_title": book_title})
    return legs


async def notify(redis: Redis, user_id: int, kind: str, data: dict[str, Any]) -> None:
    """Write a ``notify`` entry; the money already moved, so a Redis failure is logged, not raised."""
    try:
        await streams.notify(redis, user_id, kind, data)
    except (RedisError, OSError) as exc:
        log.warning("could not write %s notify entry: %s", kind, exc)


def _limits(settings: RestSettings, min_w: int | None, max_w: int | None, caps: dict[str, int],
            legs: list[pricing.Accepted]) -> pricing.Limits:
    return pricing.Limits(house_min=settings.betting_min_stake, house_max=settings.betting_max_stake,
                          max_payout=settings.betting_max_payout, player_min=min_w, player_max=max_w,
                          sport_caps=pricing.sport_caps(caps, [leg.event for leg in legs]))


async def place_bet(pool: aiopg.Pool, redis: Redis, settings: RestSettings, user_id: int, key: str,
                    req: BetRequest, now: datetime, board: Board | None = None) -> tuple[int, dict[str, Any]]:
    """Place ``req`` once per (user, key) at ``now``: (201, the bet) the first time, (200, the same
    answer) on a retry.

    ``board`` holds the thrown kill switches; a bet one of them covers is refused (409 betting_suspended).
    """
    board = board or Board()
    pricing.check_shape(req.bet_type, list(req.picks), settings.betting_max_legs)
    digest = req.digest()
    async with pool.acquire() as conn, conn.cursor() as cur, Transaction(cur) as tx:
        await tx.begin(q.OPEN_PLACEMENT, {"user_id": user_id, "key": key, **_offer_params(req.picks)})
        row = await cur.fetchone()
        if row is None:
            raise NotFound("This account no longer exists", code="user_not_found")
        account = PlacementOpen._make(row)
        if account.response is not None:
            if account.request_hash != digest:
                raise ValidationFailed("This Idempotency-Key was used for a different bet; use a new key",
                                       code="idempotency_key_reused")
            await tx.commit()
            return 200, account.response
        # A master agent's switches cover its tree: look the chain up only when one is thrown (a player
        # always has an agent; anyone else is refused by _place).
        chain: Sequence[int] = ()
        if board.has_tree_switches and account.agent_id is not None:
            chain = await switch_store.master_chain(cur, account.agent_id)
        body, writes = _place(settings, user_id, key, digest, req, account, now, board, chain)
        await tx.commit(writes)
    BETS_PLACED.labels(req.bet_type).inc()
    BETS_STAKE.labels(req.bet_type).inc(req.stake_cents)
    await notify(redis, user_id, "bet.accepted", {
        "bet_id": body["id"], "type": body["type"], "stake_cents": body["stake_cents"],
        "potential_payout_cents": body["potential_payout_cents"], "available_cents": body["available_cents"]})
    return 201, body


LEG_FIELDS = ("leg_no", "event_id", "sport", "league", "home_team", "away_team", "commence_time", "market", "outcome",
              "point", "book", "price", "price_seen", "point_seen", "live")


def switch_legs(picks: Sequence[pricing.Pick], offers: dict[tuple[str, str, str], pricing.Offer],
                now: datetime) -> list[Leg]:
    """What the kill switches need of each known pick (unknown ones are refused by the pricing rules)."""
    legs = []
    for p in picks:
        event = offers[p.triple].event
        if event is not None:
            legs.append(Leg(event.sport, event.league, event.id, p.market,
                            event.status == "live" or event.commence_time <= now))
    return legs


def event_name(legs: list[Any]) -> str:
    """What the agent's exposure lists a bet under: "Away @ Home", or each game of a parlay."""
    names = [f"{leg.event.away_team} @ {leg.event.home_team}" for leg in legs]
    text = names[0] if len(names) == 1 else "Parlay: " + " + ".join(names)
    return text[:200]


def _place(settings: RestSettings, user_id: int, key: str, digest: str, req: BetRequest,
           account: PlacementOpen, now: datetime, board: Board | None = None,
           chain: Sequence[int] = ()) -> tuple[dict[str, Any], list[Statement]]:
    """The answer to a placement and the statements that book it, or the 4xx that refuses it (no I/O)."""
    a = account
    if a.status != "active":
        raise Forbidden("This account is not active; contact your agent", code="account_inactive")
    if a.role != "player":
        raise Forbidden("Only players place bets", code="wrong_role")
    offers = parse_offers(req.picks, a.offers)
    if board is not None:  # before prices: a suspended line is refused as suspended, not as moved
        board.check_bet(req.bet_type, switch_legs(req.picks, offers, now), chain)
    legs = pricing.accept_legs(list(req.picks), offers, settings.betting_books, a.accept_price_changes, now)
    prices = [leg.price for leg in legs]
    potential = (straight_payout(req.stake_cents, prices[0]) if req.bet_type == "straight"
                 else parlay_payout(req.stake_cents, prices))
    pricing.check_limits(req.stake_cents, potential,
                         _limits(settings, a.min_wager_cents, a.max_wager_cents, a.sport_caps, legs))
    leagues = sorted({leg.event.league for leg in legs})
    posting = ledger.prepare(  # raises InsufficientCredit before anything is written
        ledger.Tip(user_id, a.balance_cents, a.credit_limit_cents, a.pending_risk_cents, a.ledger_seq, a.ledger_head),
        amount_cents=0, risk_cents=req.stake_cents, kind="bet_risk", ref_type="bet", ref_id=a.bet_id, actor_id=user_id,
        meta={"sport": leagues[0] if len(leagues) == 1 else "mixed", "bet_type": req.bet_type,
              "event": event_name(legs)})
    leg_rows = [[i + 1, leg.event.id, leg.event.sport, leg.event.league, leg.event.home_team, leg.event.away_team,
                 leg.event.commence_time, leg.pick.market, leg.pick.outcome, leg.point, leg.book, leg.price,
                 leg.pick.price, leg.pick.point, leg.live, "pending", None] for i, leg in enumerate(legs)]
    body = bet_json(Bet(a.bet_id, user_id, req.bet_type, "open", req.stake_cents, potential, None, a.placed_at, None,
                        None), [leg_json(r) for r in leg_rows])
    body["available_cents"] = ledger.available_cents(posting.balance_after, a.credit_limit_cents, posting.risk_after)
    # Points go as strings: exact decimals, read back as numeric.
    leg_objects = [dict(zip(LEG_FIELDS, row, strict=False)) for row in leg_rows]
    bet = {"bet_id": a.bet_id, "user_id": user_id, "agent_id": a.agent_id, "bet_type": req.bet_type,
           "stake_cents": req.stake_cents, "potential_payout_cents": potential,
           "sports": sorted({k for leg in legs for k in (leg.event.sport, leg.event.league)}),
           "legs": orjson.dumps(leg_objects, default=str).decode(),
           "key": key, "request_hash": digest, "response": orjson.dumps(body).decode()}
    return body, [(q.INSERT_BET, bet), (ledger.APPEND, posting.params())]


async def get_bet(pool: aiopg.Pool, user_id: int, bet_id: int) -> dict[str, Any]:
    """One of the caller's bets (404 for anyone else's)."""
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(q.SELECT_OWN_BET, {"bet_id": bet_id, "user_id": user_id})
        row = await cur.fetchone()
        if row is None:
            raise NotFound("No such bet", code="bet_not_found")
        legs = await fetch_legs(cur, [bet_id])
    return bet_json(Bet._make(row), legs[bet_id])


def encode_cursor(bet_id: int) -> str:
    """An opaque cursor for the page after ``bet_id``."""
    return base64.urlsafe_b64encode(f"b{bet_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The bet id of a cursor, or 422."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith("b") or not text[1:].isdigit() or len(text) > 20:
            raise ValueError(cursor)
        return int(text[1:])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed("Invalid cursor; pass back next_cursor as given",
                               details={"cursor": ["Invalid cursor."]}) from None


async def history(pool: aiopg.Pool, user_id: int, filters: dict[str, Any], page_max: int) -> dict[str, Any]:
    """A page of the caller's bets, newest first, and the cursor of the next page (or None)."""
    limit = min(filters.get("limit") or 20, page_max)
    before = decode_cursor(filters["cursor"]) if filters.get("cursor") else None
    params = {"user_id": user_id, "status": filters.get("status"), "bet_type": filters.get("bet_type"),
              "sport": filters.get("sport"),
              "since": filters.get("since"), "until": filters.get("until"), "before_id": before,
              "limit": limit + 1}
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(q.SELECT_HISTORY, params)
        rows = await cur.fetchall()
        page = [Bet._make(row) for row in rows[:limit]]
        legs = await fetch_legs(cur, [bet.id for bet in page])
    return {"bets": [bet_json(bet, legs[bet.id]) for bet in page],
            "next_cursor": encode_cursor(page[-1].id) if len(rows) > limit else None}
