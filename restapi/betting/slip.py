"""The betting slip (one per user, a Redis hash with a TTL) and the quote view of any set of selections.

``slip:{user_id}`` holds one field ``s:{id}`` per selection (orjson: event, market, outcome, point,
book, price seen, stake, when added) and ``_parlay_stake``. Every change renews the TTL, so a slip
survives a reconnect or a second device for ``BETTING_SLIP_TTL`` seconds after its last change.
A selection's id is derived from (event, market, outcome): adding the same outcome again replaces it.

The view (``GET betting/slip`` and the stateless ``POST betting/quote``) prices every selection at
its current line: ``moved`` when the price or point differs from the one seen, ``off_board`` when no
book quotes it any more, ``error`` when it cannot be bet now; straight payouts per stake and the
parlay's combined odds and payout.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import aiopg
import orjson

from restapi.betting import pricing
from restapi.betting.service import load_offers, pick_from
from restapi.config import RestSettings
from shared.errors import AppError, Conflict, NotFound, ValidationFailed
from shared.odds import from_decimal, parlay_multiplier, parlay_payout, straight_payout
from shared.redis import Redis

PARLAY_FIELD = "_parlay_stake"
PREFIX = "s:"

# KEYS[1] slip; ARGV: field, value, max selections, ttl. Returns 0 when the slip is full.
_ADD = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  local n = redis.call('HLEN', KEYS[1]) - redis.call('HEXISTS', KEYS[1], '_parlay_stake')
  if n >= tonumber(ARGV[3]) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
"""


def slip_key(user_id: int) -> str:
    """Redis key of a user's slip."""
    return f"slip:{user_id}"


def selection_id(event_id: str, market: str, outcome: str) -> str:
    """A short stable id of (event, market, outcome)."""
    return hashlib.sha256(f"{event_id}\x1f{market}\x1f{outcome}".encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Entry:
    """One selection on a slip (or in a quote) with its optional straight stake."""

    pick: pricing.Pick
    stake_cents: int | None = None
    added_ms: int = 0

    @property
    def id(self) -> str:
        return selection_id(*self.pick.triple)

    def dumps(self) -> bytes:
        p = self.pick
        return orjson.dumps({"event_id": p.event_id, "market": p.market, "outcome": p.outcome,
                             "point": None if p.point is None else str(p.point), "book": p.book, "price": p.price,
                             "stake_cents": self.stake_cents, "added": self.added_ms})

    @classmethod
    def loads(cls, raw: bytes) -> Entry:
        d = orjson.loads(raw)
        pick = pricing.Pick(d["event_id"], d["market"], d["outcome"],
                            None if d["point"] is None else Decimal(d["point"]), d["book"], d["price"])
        return cls(pick, d["stake_cents"], d["added"])


def entry_from(data: dict[str, Any], added_ms: int = 0) -> Entry:
    """An ``Entry`` from a validated selection with an optional stake."""
    return Entry(pick_from(data), data.get("stake_cents"), added_ms)


def _decimal_text(mult: Fraction) -> str:
    units = math.floor(mult * 100 + Fraction(1, 2))
    return f"{units // 100}.{units % 100:02d}"


def _error(exc: AppError) -> dict[str, str]:
    return {"code": exc.code, "message": exc.message}


def _evaluate(index: int, entry: Entry, offer: pricing.Offer, books: tuple[str, ...],
              now: datetime) -> dict[str, Any]:
    pick, line, event, error = entry.pick, None, offer.event, None
    try:
        pricing.check_known(index, pick, offer)
        line = pricing.choose_line(index, pick, offer, books)
        pricing.check_bettable(index, offer, now)
    except AppError as exc:
        error = _error(exc)
    current = line.current if line else None
    usable = current is not None and error is None
    return {
        "id": entry.id, "event_id": pick.event_id, "market": pick.market, "outcome": pick.outcome,
        "point": pricing.point_json(pick.point), "book": line.book if line else pick.book, "price": pick.price,
        "stake_cents": entry.stake_cents,
        "current": None if current is None else {"price": current.price, "point": pricing.point_json(current.point),
                                                 "last_update": current.last_update.isoformat()},
        "moved": pricing.moved(pick, current), "off_board": line is not None and current is None,
        "error": error,
        "payout_cents": straight_payout(entry.stake_cents, current.price) if usable and entry.stake_cents
        and current else None,
        "event": None if event is None else {"sport": event.sport, "league": event.league, "home": event.home_team,
                                             "away": event.away_team, "commence_time": event.commence_time.isoformat(),
                                             "status": event.status},
    }


def _parlay(entries: list[Entry], views: list[dict[str, Any]], stake: int | None, max_legs: int) -> dict[str, Any]:
    out: dict[str, Any] = {"legs": len(entries), "stake_cents": stake, "american": None, "decimal": None,
                           "payout_cents": None, "error": None}
    try:
        pricing.check_shape("parlay", [e.pick for e in entries], max_legs)
    except ValidationFailed as exc:
        out["error"] = _error(exc)
        return out
    if any(v["error"] or v["current"] is None for v in views):
        out["error"] = {"code": "leg_unavailable", "message": "A selection cannot be bet now"}
        return out
    prices = [v["current"]["price"] for v in views]
    mult = parlay_multiplier(prices)
    out.update(american=from_decimal(mult), decimal=_decimal_text(mult),
               payout_cents=parlay_payout(stake, prices) if stake else None)
    return out


async def quote(pool: aiopg.Pool, settings: RestSettings, entries: list[Entry],
                parlay_stake: int | None, now: datetime) -> dict[str, Any]:
    """Price ``entries`` at the current lines as of ``now``: straight payouts, flags, and the parlay."""
    offers: dict[tuple[str, str, str], pricing.Offer] = {}
    if entries:
        async with pool.acquire() as conn, conn.cursor() as cur:
            offers = await load_offers(cur, [e.pick for e in entries])
    views = [_evaluate(i, e, offers[e.pick.triple], settings.betting_books, now) for i, e in enumerate(entries)]
    return {"selections": views, "parlay": _parlay(entries, views, parlay_stake, settings.betting_max_legs)}


async def _read(redis: Redis, user_id: int) -> tuple[list[Entry], int | None, int]:
    pipe = redis.pipeline(transaction=False)
    pipe.hgetall(slip_key(user_id))
    pipe.ttl(slip_key(user_id))
    raw, ttl = await pipe.execute()
    stake = raw.pop(PARLAY_FIELD.encode(), None)
    entries = sorted((Entry.loads(v) for v in raw.values()), key=lambda e: (e.added_ms, e.id))
    return entries, int(stake) if stake else None, max(int(ttl), 0)


async def get_slip(pool: aiopg.Pool, redis: Redis, settings: RestSettings, user_id: int,
                   now: datetime) -> dict[str, Any]:
    """The user's slip priced at ``now`` (empty when there is none)."""
    entries, stake, ttl = await _read(redis, user_id)
    view = await quote(pool, settings, entries, stake, now)
    view["expires_in"] = ttl
    return view


async def _offers(pool: aiopg.Pool, entries: list[Entry]) -> dict[tuple[str, str, str], pricing.Offer]:
    async with pool.acquire() as conn, conn.cursor() as cur:
        return await load_offers(cur, [e.pick for e in entries])


def _resolve(index: int, entry: Entry, offer: pricing.Offer, books: tuple[str, ...], strict: bool,
             now: datetime) -> Entry:
    """``entry`` with its book resolved (and price filled in when absent); 422 for unknown selections.

    ``strict`` (adding one selection) also refuses what cannot be bet now (409).
    """
    pricing.check_known(index, entry.pick, offer)
    line = pricing.choose_line(index, entry.pick, offer, books)
    if strict:
        pricing.check_bettable(index, offer, now)
        if line.current is None:
            raise Conflict("Nobody quotes this selection right now", code="off_board", details={"selection": index})
    price = entry.pick.price if entry.pick.price is not None else (line.current.price if line.current else None)
    return replace(entry, pick=replace(entry.pick, book=line.book, price=price))


async def add_selection(pool: aiopg.Pool, redis: Redis, settings: RestSettings, user_id: int,
                        data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Add (or replace) one selection; 409 when the slip is full or the selection cannot be bet ``now``."""
    entry = entry_from(data, int(now.timestamp() * 1000))
    entry = _resolve(0, entry, (await _offers(pool, [entry]))[entry.pick.triple], settings.betting_books, True,
                     now)
    added = await redis.eval(_ADD, 1, slip_key(user_id), PREFIX + entry.id, entry.dumps(),
                             settings.betting_slip_max, settings.betting_slip_ttl)
    if not added:
        raise Conflict(f"A slip holds at most {settings.betting_slip_max} selections", code="slip_full",
                       details={"max_selections": settings.betting_slip_max})
    return await get_slip(pool, redis, settings, user_id, now)


async def put_slip(pool: aiopg.Pool, redis: Redis, settings: RestSettings, user_id: int,
                   data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Replace the whole slip (a later duplicate of an outcome wins); unknown selections are 422."""
    base = int(now.timestamp() * 1000)
    given = [entry_from(sel, base + i) for i, sel in enumerate(data["selections"])]
    offers = await _offers(pool, given) if given else {}
    entries: dict[str, Entry] = {}
    for i, entry in enumerate(given):
        resolved = _resolve(i, entry, offers[entry.pick.triple], settings.betting_books, False, now)
        entries[resolved.id] = resolved
    if len(entries) > settings.betting_slip_max:
        raise ValidationFailed(f"A slip holds at most {settings.betting_slip_max} selections", code="slip_full",
                               details={"max_selections": settings.betting_slip_max})
    fields: dict[str, bytes] = {PREFIX + k: e.dumps() for k, e in entries.items()}
    if data.get("parlay_stake_cents"):
        fields[PARLAY_FIELD] = str(data["parlay_stake_cents"]).encode()
    pipe = redis.pipeline(transaction=True)
    pipe.delete(slip_key(user_id))
    if fields:
        pipe.hset(slip_key(user_id), mapping=fields)  # type: ignore[arg-type]
        pipe.expire(slip_key(user_id), settings.betting_slip_ttl)
    await pipe.execute()
    return await get_slip(pool, redis, settings, user_id, now)


async def delete_slip(redis: Redis, user_id: int) -> None:
    """Empty the slip."""
    await redis.delete(slip_key(user_id))


async def remove_selection(pool: aiopg.Pool, redis: Redis, settings: RestSettings, user_id: int,
                           selection: str, now: datetime) -> dict[str, Any]:
    """Remove one selection (404 when it is not on the slip) and return the slip."""
    pipe = redis.pipeline(transaction=True)
    pipe.hdel(slip_key(user_id), PREFIX + selection)
    pipe.expire(slip_key(user_id), settings.betting_slip_ttl)
    removed, _ = await pipe.execute()
    if not removed:
        raise NotFound("No such selection on the slip", code="selection_not_found")
    return await get_slip(pool, redis, settings, user_id, now)
