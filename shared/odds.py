"""Exact odds and payout math: American odds integers in and out, money in integer cents.

Every intermediate value is a ``fractions.Fraction`` (never float, never ``Decimal``, which rounds
intermediate products and can be a cent off). A payout is rounded once, at the end, down to the
cent, so the house never pays a fraction of a cent it does not owe.

    decimal(+150) = 5/2       decimal(-110) = 21/11
    straight: +150 on 1000 cents returns 2500 (profit 1500); -110 on 1100 returns 2100
    parlay:   stake x product of the winning legs' decimal odds; a push or void leg drops out;
              all legs push/void returns the stake; any lost leg returns 0
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from shared.errors import ValidationFailed

LegResult = Literal["pending", "won", "lost", "push", "void"]
SETTLED_RESULTS: tuple[LegResult, ...] = ("won", "lost", "push", "void")

MIN_AMERICAN = 100  # |odds| below 100 do not exist in American notation
MAX_AMERICAN = 1_000_000


class OddsError(ValidationFailed, ValueError):
    """Odds, stakes or a combination of selections that cannot be priced."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)


def check_american(odds: int) -> int:
    """``odds`` if it is a valid American price (an int with |odds| >= 100), else OddsError."""
    if isinstance(odds, bool) or not isinstance(odds, int):
        raise OddsError("invalid_odds", f"American odds must be an integer, got {odds!r}")
    if abs(odds) < MIN_AMERICAN or abs(odds) > MAX_AMERICAN:
        raise OddsError("invalid_odds", f"American odds must be <= -100 or >= +100, got {odds}")
    return odds


def to_decimal(odds: int) -> Fraction:
    """Decimal odds (total return per unit staked) of an American price, exactly."""
    check_american(odds)
    if odds > 0:
        return 1 + Fraction(odds, 100)
    return 1 + Fraction(100, -odds)


def implied_probability(odds: int) -> Fraction:
    """The probability the price implies (including the book's margin), exactly."""
    return 1 / to_decimal(odds)


def from_decimal(decimal: Fraction) -> int:
    """The American price of a decimal price, rounded to the nearest integer (half away from zero)."""
    if decimal <= 1:
        raise OddsError("invalid_odds", f"decimal odds must exceed 1, got {decimal}")
    value = (decimal - 1) * 100 if decimal >= 2 else -100 / (decimal - 1)
    rounded = math.floor(abs(value) + Fraction(1, 2))
    return rounded if value > 0 else -rounded


def decimal_str(odds: int, places: int = 2) -> str:
    """Decimal odds for display, rounded half up to ``places`` (``-110`` -> ``"1.91"``)."""
    scaled = to_decimal(odds) * 10**places
    units = math.floor(scaled + Fraction(1, 2))
    whole, frac = divmod(units, 10**places)
    return f"{whole}.{frac:0{places}d}" if places else str(whole)


def check_stake(stake_cents: int) -> int:
    """``stake_cents`` if it is a positive whole number of cents, else OddsError."""
    if isinstance(stake_cents, bool) or not isinstance(stake_cents, int):
        raise OddsError("invalid_stake", "Stake must be a whole number of cents")
    if stake_cents <= 0:
        raise OddsError("invalid_stake", "Stake must be positive")
    return stake_cents


def _round_down(amount: Fraction) -> int:
    # The one rounding step of every payout: down to the cent.
    return math.floor(amount)


def straight_payout(stake_cents: int, odds: int) -> int:
    """Total return in cents (stake included) of a winning straight bet."""
    return _round_down(check_stake(stake_cents) * to_decimal(odds))


def parlay_multiplier(odds: Iterable[int]) -> Fraction:
    """Product of the legs' decimal odds."""
    product = Fraction(1)
    for price in odds:
        product *= to_decimal(price)
    return product


def parlay_payout(stake_cents: int, odds: Sequence[int]) -> int:
    """Total return in cents if every leg of a parlay wins."""
    return _round_down(check_stake(stake_cents) * parlay_multiplier(odds))


@dataclass(frozen=True, slots=True)
class Leg:
    """One priced leg of a bet with its result (``pending`` until graded)."""

    odds: int
    result: LegResult = "pending"


def settle(stake_cents: int, legs: Sequence[Leg]) -> tuple[str, int] | None:
    """Status and total return of a bet (straight = one leg), or None while a leg that matters is pending.

    Any lost leg loses the bet at once (0), even with other legs pending. Otherwise push and void
    legs drop out; if none is left the stake comes back (``push``, or ``void`` when every leg is
    void); else the return is stake x the winning legs' decimal odds, rounded down once.
    """
    check_stake(stake_cents)
    if not legs:
        raise OddsError("no_legs", "A bet needs at least one leg")
    if any(leg.result == "lost" for leg in legs):
        return "lost", 0
    if any(leg.result == "pending" for leg in legs):
        return None
    winners = [leg.odds for leg in legs if leg.result == "won"]
    if not winners:
        return ("void" if all(leg.result == "void" for leg in legs) else "push"), stake_cents
    return "won", _round_down(stake_cents * parlay_multiplier(winners))


@dataclass(frozen=True, slots=True)
class Selection:
    """What a leg is on: an outcome of one market of one event."""

    event: str
    market: str
    outcome: str


def check_parlay(selections: Sequence[Selection], max_legs: int) -> None:
    """Reject parlays that cannot be offered: too few or too many legs, or two legs on one event.

    Two legs on the same market of an event is a duplicate; two legs on different markets of the
    same event (a side and its total, say) are correlated and priced as if independent, which a
    book must not do, so both are refused.
    """
    if len(selections) < 2:
        raise OddsError("parlay_too_short", "A parlay needs at least 2 legs")
    if len(selections) > max_legs:
        raise OddsError("parlay_too_long", f"A parlay may have at most {max_legs} legs")
    seen: dict[str, Selection] = {}
    for sel in selections:
        other = seen.get(sel.event)
        if other is not None:
            if other.market == sel.market:
                raise OddsError(
                    "duplicate_market", f"Two selections on the {sel.market} market of event {sel.event}"
                )
            raise OddsError(
                "correlated_selections",
                f"Selections on {other.market} and {sel.market} of the same event {sel.event} are correlated",
            )
        seen[sel.event] = sel
