"""Pure betting rules: which line a selection gets, whether it may be bet, price changes, stake limits.

No I/O. ``service`` and ``slip`` fetch an ``Offer`` per selection from the catalog and call these.

Which book's price a bet is taken at: the selection may name a book (the line the player saw). When
it does not, ``BETTING_BOOKS`` (the house's priority list) gives the first book quoting the outcome,
preferring one at the point the player saw; with no list, the best price for the player among the
books at that point (ties go to the book key). A named book outside a non-empty ``BETTING_BOOKS``
is refused. The bet records the book, and grading never depends on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from shared.errors import Conflict, PriceChanged, ValidationFailed
from shared.money import dollars
from shared.odds import OddsError, Selection, check_parlay, to_decimal

MARKETS = ("h2h", "spreads", "totals")
POLICIES = ("none", "better", "any")


@dataclass(frozen=True, slots=True)
class Pick:
    """A selection as the client sent it; ``price``/``point`` are what the player saw."""

    event_id: str
    market: str
    outcome: str
    point: Decimal | None = None
    book: str | None = None
    price: int | None = None

    @property
    def triple(self) -> tuple[str, str, str]:
        return (self.event_id, self.market, self.outcome)


@dataclass(frozen=True, slots=True)
class Price:
    """One book's current price of an outcome."""

    price: int
    point: Decimal | None
    last_update: datetime


@dataclass(frozen=True, slots=True)
class EventInfo:
    """The catalog header of an event."""

    id: str
    sport: str
    league: str
    home_team: str
    away_team: str
    commence_time: datetime
    status: str


@dataclass(frozen=True, slots=True)
class MarketInfo:
    """A market's flags."""

    is_open: bool
    live_bettable: bool


@dataclass(slots=True)
class Offer:
    """What the catalog says about one (event, market, outcome): None parts are unknown."""

    event: EventInfo | None = None
    market: MarketInfo | None = None
    prices: dict[str, Price] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Line:
    """The line a selection resolves to: the book and its current price (None: off the board)."""

    book: str | None
    current: Price | None


def leg_error(index: int, code: str, message: str, conflict: bool = False) -> ValidationFailed | Conflict:
    """The error of one selection, naming its position in the request."""
    cls = Conflict if conflict else ValidationFailed
    return cls(message, code=code, details={"selection": index})


def valid_outcome(market: str, outcome: str, event: EventInfo) -> bool:
    """Is ``outcome`` a name this market of this event can have (The Odds API naming)?"""
    if market == "totals":
        return outcome in ("Over", "Under")
    teams = (event.home_team, event.away_team)
    return outcome in teams or (market == "h2h" and outcome == "Draw")


def check_known(index: int, pick: Pick, offer: Offer) -> EventInfo:
    """The event of a selection that names a real event, market and outcome; else 422 unknown_selection."""
    event = offer.event
    if event is None:
        raise leg_error(index, "unknown_selection", f"No event {pick.event_id!r}")
    if offer.market is None:
        raise leg_error(index, "unknown_selection", f"Event {pick.event_id!r} has no {pick.market} market")
    if not valid_outcome(pick.market, pick.outcome, event):
        raise leg_error(index, "unknown_selection",
                        f"{pick.outcome!r} is not an outcome of the {pick.market} market of this event")
    if pick.market == "h2h" and pick.point is not None:
        raise leg_error(index, "invalid_point", "A moneyline (h2h) selection has no point")
    if pick.market != "h2h" and pick.point is None:
        raise leg_error(index, "point_required", f"A {pick.market} selection needs the point (line) seen")
    return event


def check_bettable(index: int, offer: Offer, now: datetime) -> bool:
    """Raise 409 unless bets are taken on this market now; return True when the event is live."""
    assert offer.event is not None and offer.market is not None
    event, market = offer.event, offer.market
    if event.status in ("final", "cancelled"):
        raise leg_error(index, "event_over", f"The event is {event.status}", conflict=True)
    if event.status == "awaiting":
        raise leg_error(index, "event_awaiting_result", "This game is past its expected end and awaits its result",
                        conflict=True)
    if not market.is_open:
        raise leg_error(index, "market_closed", "This market is closed to betting", conflict=True)
    live = event.status == "live" or event.commence_time <= now
    if live and not market.live_bettable:
        raise leg_error(index, "event_started", "The event has started and this market is not bet live",
                        conflict=True)
    return live


def _better(a: int, b: int) -> bool:
    return to_decimal(a) > to_decimal(b)


def choose_line(index: int, pick: Pick, offer: Offer, books: tuple[str, ...]) -> Line:
    """The book (and its current price) a selection is bet at; see the module docstring."""
    if pick.book is not None:
        if books and pick.book not in books:
            raise leg_error(index, "book_not_offered", f"Bets are not taken at {pick.book!r}; use one of "
                                                       f"{', '.join(books)} or leave the book out")
        return Line(pick.book, offer.prices.get(pick.book))
    quoting = [b for b in (books or sorted(offer.prices)) if b in offer.prices]
    if not quoting:
        return Line(books[0] if books else None, None)
    same_point = [b for b in quoting if offer.prices[b].point == pick.point]
    pool = same_point or quoting
    if books:
        return Line(pool[0], offer.prices[pool[0]])
    best = pool[0]
    for book in pool[1:]:
        if _better(offer.prices[book].price, offer.prices[best].price):
            best = book
    return Line(best, offer.prices[best])


def moved(pick: Pick, current: Price | None) -> bool:
    """Did the line change since the player saw it (a seen price is needed to tell)?"""
    if current is None or pick.price is None:
        return False
    return current.price != pick.price or current.point != pick.point


def price_acceptable(pick: Pick, current: Price, policy: str) -> bool:
    """May the bet go ahead at ``current``? none: only the price seen; better: the same point at a price
    that pays at least as much; any: whatever is on the board now."""
    if pick.price is None:
        return False
    if current.price == pick.price and current.point == pick.point:
        return True
    if policy == "any":
        return True
    if policy == "better":
        return current.point == pick.point and not _better(pick.price, current.price)
    return False


def change_details(index: int, pick: Pick, line: Line) -> dict[str, Any]:
    """One entry of a ``price_changed`` error's ``details.changes``."""
    cur = line.current
    return {"selection": index, "event_id": pick.event_id, "market": pick.market, "outcome": pick.outcome,
            "book": line.book, "price_seen": pick.price, "point_seen": point_json(pick.point),
            "price": cur.price if cur else None, "point": point_json(cur.point) if cur else None,
            "off_board": cur is None}


def raise_price_changes(changes: list[dict[str, Any]], policy: str) -> None:
    """409 price_changed carrying every changed line, if there is any."""
    if changes:
        raise PriceChanged(
            "A price changed since you saw it; review the new prices and bet again",
            details={"changes": changes, "accept_price_changes": policy},
        )


def point_json(point: Decimal | None) -> float | None:
    """A point as a JSON number."""
    return None if point is None else float(point)


@dataclass(frozen=True, slots=True)
class Limits:
    """Stake limits of one bet: house and player settings, per-sport caps that apply to its legs."""

    house_min: int
    house_max: int
    max_payout: int
    player_min: int | None = None
    player_max: int | None = None
    sport_caps: tuple[tuple[str, int], ...] = ()


def check_limits(stake_cents: int, payout_cents: int, limits: Limits) -> None:
    """422 when the stake is outside the limits or the bet could pay more than the house allows."""
    minimum = limits.player_min or limits.house_min
    if stake_cents < minimum:
        raise ValidationFailed(f"Smallest stake for this bet {dollars(minimum)}", code="stake_too_low",
                               details={"stake_cents": stake_cents, "min_stake_cents": minimum})
    caps = [(limits.house_max, "house")]
    if limits.player_max is not None:
        caps.append((limits.player_max, "player"))
    caps.extend((cap, f"sport:{key}") for key, cap in limits.sport_caps)
    cap, which = min(caps, key=lambda c: c[0])
    if stake_cents > cap:
        whose = "your account" if which == "player" else "this market"
        raise ValidationFailed(f"Largest stake for {whose} {dollars(cap)}", code="stake_too_high",
                               details={"stake_cents": stake_cents, "max_stake_cents": cap, "limit": which})
    if payout_cents > limits.max_payout:
        raise ValidationFailed(f"A bet may return at most {dollars(limits.max_payout)}: lower the stake",
                               code="payout_too_high",
                               details={"payout_cents": payout_cents, "max_payout_cents": limits.max_payout})


def sport_caps(caps: dict[str, int], events: list[EventInfo]) -> tuple[tuple[str, int], ...]:
    """The per-sport caps (keyed by sport or league key) that apply to a bet on ``events``."""
    keys = {k for e in events for k in (e.sport, e.league)}
    return tuple(sorted((k, int(v)) for k, v in caps.items() if k in keys))


def check_shape(bet_type: str, picks: list[Pick], max_legs: int) -> None:
    """422 for a straight without exactly one selection or a parlay ``check_parlay`` refuses."""
    if bet_type == "straight":
        if len(picks) != 1:
            raise ValidationFailed("A straight bet has exactly one selection", code="invalid_straight")
        return
    try:
        check_parlay([Selection(p.event_id, p.market, p.outcome) for p in picks], max_legs)
    except OddsError as exc:
        raise ValidationFailed(exc.message, code=exc.code, details={"max_legs": max_legs}) from None


@dataclass(frozen=True, slots=True)
class Accepted:
    """A leg as it will be booked: the line (book, price, point) it is taken at."""

    pick: Pick
    event: EventInfo
    book: str
    price: int
    point: Decimal | None
    live: bool


def accept_legs(picks: list[Pick], offers: dict[tuple[str, str, str], Offer], books: tuple[str, ...],
                policy: str, now: datetime) -> list[Accepted]:
    """Every leg at its current line, or the first 422/409 that stops the bet.

    Order: unknown selections (422), then closed or started markets (409), then one 409
    ``price_changed`` listing every leg whose line moved beyond ``policy`` or left the board.
    """
    events = [check_known(i, p, offers[p.triple]) for i, p in enumerate(picks)]
    lives = [check_bettable(i, offers[p.triple], now) for i, p in enumerate(picks)]
    lines = [choose_line(i, p, offers[p.triple], books) for i, p in enumerate(picks)]
    changes = [change_details(i, p, line) for i, (p, line) in enumerate(zip(picks, lines, strict=True))
               if line.current is None or not price_acceptable(p, line.current, policy)]
    raise_price_changes(changes, policy)
    accepted = []
    for pick, event, live, line in zip(picks, events, lives, lines, strict=True):
        assert line.book is not None and line.current is not None
        accepted.append(Accepted(pick, event, line.book, line.current.price, line.current.point, live))
    return accepted
