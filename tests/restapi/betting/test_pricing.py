"""The pure betting rules: which book a selection gets, price policies, bettability and stake limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from restapi.betting import pricing
from restapi.betting.pricing import EventInfo, Limits, MarketInfo, Offer, Pick, Price
from shared.errors import Conflict, ValidationFailed

NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
EVENT = EventInfo("e1", "basketball", "basketball_nba", "Home", "Away", NOW + timedelta(hours=1), "upcoming")


def _offer(prices: dict[str, tuple[int, str | None]], *, event: EventInfo = EVENT, is_open: bool = True,
           live: bool = False) -> Offer:
    return Offer(event, MarketInfo(is_open, live),
                 {b: Price(p, None if pt is None else Decimal(pt), NOW) for b, (p, pt) in prices.items()})


SPREAD = Pick("e1", "spreads", "Home", Decimal("-5.5"), None, -110)
QUOTES = {"a": (-115, "-5.5"), "b": (-105, "-5.5"), "c": (100, "-6.5")}


def test_named_book_is_used_and_refused_outside_the_house_list() -> None:
    offer = _offer(QUOTES)
    named = Pick("e1", "spreads", "Home", Decimal("-5.5"), "a", -115)
    assert pricing.choose_line(0, named, offer, ()).book == "a"
    assert pricing.choose_line(0, named, offer, ("a", "b")).current == offer.prices["a"]
    with pytest.raises(ValidationFailed) as err:
        pricing.choose_line(0, named, offer, ("b",))
    assert err.value.code == "book_not_offered"
    gone = Pick("e1", "spreads", "Home", Decimal("-5.5"), "zz", -110)
    assert pricing.choose_line(0, gone, offer, ()).current is None  # named but not quoting: off the board


def test_without_a_book_priority_list_then_best_price_at_the_seen_point() -> None:
    offer = _offer(QUOTES)
    assert pricing.choose_line(0, SPREAD, offer, ("c", "a", "b")).book == "a"  # c is at another point
    assert pricing.choose_line(0, SPREAD, offer, ()).book == "b"  # -105 pays more than -115; c's point differs
    other_point = Pick("e1", "spreads", "Home", Decimal("-7.5"), None, -110)
    assert pricing.choose_line(0, other_point, offer, ()).book == "c"  # nobody at -7.5: best of all
    assert pricing.choose_line(0, SPREAD, _offer({}), ("a",)) == pricing.Line("a", None)


@pytest.mark.parametrize(("policy", "price", "point", "ok"), [
    ("none", -110, "-5.5", True), ("none", -105, "-5.5", False),
    ("better", -105, "-5.5", True), ("better", -115, "-5.5", False), ("better", 100, "-4.5", False),
    ("any", -150, "-7.5", True),
])
def test_price_policies(policy: str, price: int, point: str, ok: bool) -> None:
    assert pricing.price_acceptable(SPREAD, Price(price, Decimal(point), NOW), policy) is ok


def test_bettable_depends_on_status_start_and_live_flag() -> None:
    assert pricing.check_bettable(0, _offer(QUOTES), NOW) is False
    started = replace(EVENT, commence_time=NOW - timedelta(minutes=1))
    with pytest.raises(Conflict) as err:
        pricing.check_bettable(0, _offer(QUOTES, event=started), NOW)
    assert err.value.code == "event_started"
    assert pricing.check_bettable(0, _offer(QUOTES, event=started, live=True), NOW) is True
    with pytest.raises(Conflict) as err:
        pricing.check_bettable(0, _offer(QUOTES, is_open=False), NOW)
    assert err.value.code == "market_closed"
    final = replace(EVENT, status="final")
    with pytest.raises(Conflict) as err:
        pricing.check_bettable(0, _offer(QUOTES, event=final, live=True), NOW)
    assert err.value.code == "event_over"


def test_limits_name_the_tightest_cap() -> None:
    limits = Limits(house_min=100, house_max=50_000, max_payout=200_000, player_min=None, player_max=20_000,
                    sport_caps=(("basketball_nba", 10_000),))
    pricing.check_limits(10_000, 19_000, limits)
    for stake, payout, code, detail in [(99, 190, "stake_too_low", None),
                                        (10_001, 19_000, "stake_too_high", "sport:basketball_nba"),
                                        (5_000, 200_001, "payout_too_high", None)]:
        with pytest.raises(ValidationFailed) as err:
            pricing.check_limits(stake, payout, limits)
        assert err.value.code == code
        if detail:
            assert err.value.details["limit"] == detail
    assert pricing.sport_caps({"soccer": 5, "basketball": 7, "basketball_nba": 9}, [EVENT]) == (
        ("basketball", 7), ("basketball_nba", 9))


def test_limit_messages_speak_dollars_with_the_figure() -> None:
    """People read "$10,000.00", never "1000000 cents" or the limit's internal name."""
    limits = Limits(house_min=500, house_max=1_000_000, max_payout=5_000_000, player_max=250_050)
    cases = [(499, 900, "Smallest stake for this bet $5.00"),
             (1_000_001, 1_900_000, "Largest stake for your account $2,500.50"),
             (200_000, 5_000_001, "A bet may return at most $50,000.00: lower the stake")]
    for stake, payout, message in cases:
        with pytest.raises(ValidationFailed) as err:
            pricing.check_limits(stake, payout, limits)
        assert err.value.message == message
        assert "cents" not in err.value.message and "house" not in err.value.message
    with pytest.raises(ValidationFailed) as err:
        pricing.check_limits(1_000_001, 1_900_000, Limits(house_min=500, house_max=1_000_000, max_payout=5_000_000))
    assert err.value.message == "Largest stake for this market $10,000.00"
