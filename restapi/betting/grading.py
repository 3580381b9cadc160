"""Grade one leg from a final score: pure, no I/O.

Markets follow The Odds API: ``h2h`` (outcome = a team or ``Draw``), ``spreads`` (outcome = a team,
``point`` = that team's handicap) and ``totals`` (outcome ``Over``/``Under``, ``point`` = the line).
A cancelled event voids every leg. A two-way moneyline that ends level is a push (stake back).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from shared.odds import LegResult


class GradingError(ValueError):
    """The leg cannot be graded from this result (unknown market or outcome, missing score)."""


@dataclass(frozen=True, slots=True)
class FinalScore:
    """An event's final result as the ``results`` stream carries it."""

    home_team: str
    away_team: str
    status: str  # final | cancelled
    home: int | None
    away: int | None


def _compare(a: Fraction, b: Fraction) -> LegResult:
    return "won" if a > b else "push" if a == b else "lost"


def grade(market: str, outcome: str, point: float | Fraction | None, score: FinalScore) -> LegResult:
    """won / lost / push / void for one leg."""
    if score.status == "cancelled":
        return "void"
    if score.status != "final":
        raise GradingError(f"event is {score.status}, not final")
    if score.home is None or score.away is None:
        raise GradingError("final result without a score")
    home, away = Fraction(score.home), Fraction(score.away)
    side = {score.home_team: (home, away), score.away_team: (away, home)}
    if market == "h2h":
        if outcome == "Draw":
            return "won" if home == away else "lost"
        if outcome not in side:
            raise GradingError(f"outcome {outcome!r} is neither team")
        mine, theirs = side[outcome]
        return _compare(mine, theirs)
    if point is None:
        raise GradingError(f"{market} leg without a point")
    line = Fraction(str(point)) if isinstance(point, float) else Fraction(point)
    if market == "spreads":
        if outcome not in side:
            raise GradingError(f"outcome {outcome!r} is neither team")
        mine, theirs = side[outcome]
        return _compare(mine + line, theirs)
    if market == "totals":
        total = home + away
        if outcome == "Over":
            return _compare(total, line)
        if outcome == "Under":
            return _compare(line, total)
        raise GradingError(f"totals outcome must be Over or Under, not {outcome!r}")
    raise GradingError(f"unknown market {market!r}")
