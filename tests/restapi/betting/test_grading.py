"""Grading legs from final scores: moneyline, spreads and totals with pushes, voids."""

from __future__ import annotations

import pytest

from restapi.betting.grading import FinalScore, GradingError, grade

LAL_BOS = FinalScore("Los Angeles Lakers", "Boston Celtics", "final", 110, 104)
TIE = FinalScore("Home FC", "Away FC", "final", 1, 1)


@pytest.mark.parametrize(
    ("market", "outcome", "point", "score", "expected"),
    [
        ("h2h", "Los Angeles Lakers", None, LAL_BOS, "won"),
        ("h2h", "Boston Celtics", None, LAL_BOS, "lost"),
        ("h2h", "Home FC", None, TIE, "push"),
        ("h2h", "Draw", None, TIE, "won"),
        ("h2h", "Draw", None, LAL_BOS, "lost"),
        ("spreads", "Los Angeles Lakers", -5.5, LAL_BOS, "won"),
        ("spreads", "Los Angeles Lakers", -6.0, LAL_BOS, "push"),
        ("spreads", "Los Angeles Lakers", -6.5, LAL_BOS, "lost"),
        ("spreads", "Boston Celtics", 6.5, LAL_BOS, "won"),
        ("spreads", "Boston Celtics", 6.0, LAL_BOS, "push"),
        ("totals", "Over", 213.5, LAL_BOS, "won"),
        ("totals", "Under", 213.5, LAL_BOS, "lost"),
        ("totals", "Over", 214.0, LAL_BOS, "push"),
        ("totals", "Under", 214.5, LAL_BOS, "won"),
        ("totals", "Over", 0.1, FinalScore("A", "B", "final", 0, 0), "lost"),
        ("h2h", "Los Angeles Lakers", None, FinalScore("Los Angeles Lakers", "Boston Celtics", "cancelled",
                                                       None, None), "void"),
    ],
)
def test_grade_examples(market: str, outcome: str, point: float | None, score: FinalScore, expected: str) -> None:
    assert grade(market, outcome, point, score) == expected


def test_ungradeable_legs_raise() -> None:
    for market, outcome, point in [("h2h", "Nobody", None), ("spreads", "Los Angeles Lakers", None),
                                   ("totals", "Sideways", 200.5), ("props", "x", 1.0)]:
        with pytest.raises(GradingError):
            grade(market, outcome, point, LAL_BOS)
    with pytest.raises(GradingError):
        grade("h2h", "Los Angeles Lakers", None, FinalScore("Los Angeles Lakers", "Boston Celtics", "final", None, 1))
