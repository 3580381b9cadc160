"""Dollars as people read them, from integer cents."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.money import dollars


def test_dollars_groups_thousands_and_keeps_two_decimals() -> None:
    assert [dollars(c) for c in (0, 5, 100, 123456, 100000000, -500)] == [
        "$0.00", "$0.05", "$1.00", "$1,234.56", "$1,000,000.00", "-$5.00"]


@given(st.integers(min_value=-10**15, max_value=10**15))
def test_dollars_reads_back_to_the_same_cents(cents: int) -> None:
    text = dollars(cents)
    sign = -1 if text.startswith("-") else 1
    whole, frac = text.lstrip("-$").replace(",", "").split(".")
    assert sign * (int(whole) * 100 + int(frac)) == cents
