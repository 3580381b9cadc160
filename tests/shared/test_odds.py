"""Odds math: worked examples to the cent, and properties that hold for every price and stake."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.odds import (
    Leg,
    OddsError,
    Selection,
    check_parlay,
    decimal_str,
    from_decimal,
    implied_probability,
    parlay_payout,
    settle,
    straight_payout,
    to_decimal,
)

american = st.one_of(st.integers(100, 100_000), st.integers(-100_000, -100))
stakes = st.integers(1, 10_000_000)

# (stake cents, American odds, total return cents)
STRAIGHT_EXAMPLES = [
    (1000, 150, 2500),   # +150 on $10 pays $25.00
    (1100, -110, 2100),  # -110 on $11 pays $21.00
    (1000, -110, 1909),  # $19.0909… rounds down
    (100, 100, 200),
    (100, -100, 200),
    (1, -110, 1),        # 1.909 cents: the house never pays a fraction
    (2500, 250, 8750),
    (10000, -300, 13333),
    (333, -120, 610),    # 333 * 11/6 = 610.5
]


@pytest.mark.parametrize(("stake", "odds", "expected"), STRAIGHT_EXAMPLES)
def test_straight_worked_examples(stake: int, odds: int, expected: int) -> None:
    assert straight_payout(stake, odds) == expected


# (stake, legs' odds, total return) — parlays priced as the product of decimals, rounded once.
PARLAY_EXAMPLES = [
    (1000, [-110, -110], 3644),        # 10 * (21/11)^2 = 36.446…
    (1000, [-110, -110, -110], 6957),  # 10 * (21/11)^3 = 69.579…
    (1000, [150, 200], 7500),          # 10 * 2.5 * 3
    (500, [100, 100, 100, 100], 8000),
    (1100, [-110, 150], 5250),         # 11 * 21/11 * 5/2 = 52.5
]


@pytest.mark.parametrize(("stake", "odds", "expected"), PARLAY_EXAMPLES)
def test_parlay_worked_examples(stake: int, odds: list[int], expected: int) -> None:
    assert parlay_payout(stake, odds) == expected


def test_rounding_happens_once_not_per_leg() -> None:
    # Rounding after each leg would give floor(floor(1000*21/11)*21/11) = floor(1909*21/11) = 3644.5 -> 3644;
    # three legs show the difference: per-leg rounding gives 6956, exact gives 6957.
    per_leg = 1000
    for _ in range(3):
        per_leg = int(per_leg * Fraction(21, 11))
    assert per_leg == 6956 and parlay_payout(1000, [-110] * 3) == 6957


def test_settle_reduces_pushed_and_void_legs() -> None:
    assert settle(1000, [Leg(150, "won"), Leg(-110, "push")]) == ("won", 2500)
    assert settle(1000, [Leg(150, "void"), Leg(-110, "push")]) == ("push", 1000)
    assert settle(1000, [Leg(150, "void"), Leg(-110, "void")]) == ("void", 1000)
    assert settle(1000, [Leg(150, "lost"), Leg(-110, "pending")]) == ("lost", 0)
    assert settle(1000, [Leg(150, "won"), Leg(-110, "pending")]) is None
    assert settle(1100, [Leg(-110, "won")]) == ("won", 2100)


@pytest.mark.parametrize("bad", [0, 99, -99, 50, -1, True, 1.5, "110"])
def test_invalid_american_odds_are_rejected(bad: object) -> None:
    with pytest.raises(OddsError):
        to_decimal(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0, -100, True, 10.5])
def test_invalid_stakes_are_rejected(bad: object) -> None:
    with pytest.raises(OddsError) as err:
        straight_payout(bad, 150)  # type: ignore[arg-type]
    assert err.value.code == "invalid_stake"


def test_decimal_display_and_conversion() -> None:
    assert decimal_str(-110) == "1.91" and decimal_str(150) == "2.50" and decimal_str(-100) == "2.00"
    assert from_decimal(Fraction(5, 2)) == 150 and from_decimal(Fraction(21, 11)) == -110
    assert implied_probability(-110) == Fraction(11, 21)


def test_parlay_rules() -> None:
    a, b, c = Selection("e1", "h2h", "A"), Selection("e2", "spreads", "B"), Selection("e3", "totals", "Over")
    check_parlay([a, b, c], max_legs=12)
    cases = {
        "parlay_too_short": [a],
        "parlay_too_long": [Selection(f"e{i}", "h2h", "X") for i in range(20)],
        "duplicate_market": [a, Selection("e1", "h2h", "B")],
        "correlated_selections": [a, Selection("e1", "totals", "Over")],
    }
    for code, sels in cases.items():
        with pytest.raises(OddsError) as err:
            check_parlay(sels, max_legs=12)
        assert err.value.code == code


@given(american)
def test_decimal_round_trips_to_american(odds: int) -> None:
    expected = 100 if odds == -100 else odds  # -100 and +100 are both evens
    assert from_decimal(to_decimal(odds)) == expected


@given(american)
def test_decimal_odds_exceed_one_and_probability_is_in_range(odds: int) -> None:
    assert to_decimal(odds) > 1 and 0 < implied_probability(odds) < 1


@given(stakes, american)
def test_straight_payout_is_the_exact_value_rounded_down(stake: int, odds: int) -> None:
    exact = stake * to_decimal(odds)
    paid = straight_payout(stake, odds)
    assert paid <= exact < paid + 1 and paid >= stake


@given(stakes, st.lists(american, min_size=2, max_size=12))
def test_parlay_never_pays_less_than_stake_or_more_than_exact(stake: int, odds: list[int]) -> None:
    paid = parlay_payout(stake, odds)
    exact = stake * Fraction(1)
    for price in odds:
        exact *= to_decimal(price)
    assert stake <= paid <= exact < paid + 1


@given(stakes, st.lists(st.tuples(american, st.sampled_from(["won", "push", "void"])), min_size=1, max_size=8))
def test_push_and_void_legs_drop_out(stake: int, legs: list[tuple[int, str]]) -> None:
    result = settle(stake, [Leg(o, r) for o, r in legs])  # type: ignore[arg-type]
    winners = [o for o, r in legs if r == "won"]
    assert result is not None
    assert result[1] == (parlay_payout(stake, winners) if winners else stake)


@given(stakes, st.lists(american, min_size=1, max_size=8), st.data())
def test_any_lost_leg_loses_everything(stake: int, odds: list[int], data: st.DataObject) -> None:
    results = data.draw(st.lists(st.sampled_from(["won", "push", "void", "pending"]), min_size=len(odds),
                                 max_size=len(odds)))
    lost_at = data.draw(st.integers(0, len(odds) - 1))
    results[lost_at] = "lost"
    assert settle(stake, [Leg(o, r) for o, r in zip(odds, results, strict=True)]) == ("lost", 0)  # type: ignore[arg-type]
