"""The differ: applying diff(old, new) to old gives new; carry-forward keeps re-polled prices quiet."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.differ import apply, carry_forward, diff, header

EVENTS = ["e1", "e2", "e3", "e4"]
BOOKS = ["dk", "fd", "mgm"]
MARKETS = ["h2h", "spreads", "totals"]
OUTCOMES = ["Home", "Away", "Over", "Under"]

price = st.one_of(st.integers(-2000, -100), st.integers(100, 2000))
quote = st.fixed_dictionaries({"price": price, "point": st.one_of(st.none(), st.sampled_from([-3.5, 0.5, 221.5])),
                               "t": st.integers(0, 10)})
outcomes = st.dictionaries(st.sampled_from(OUTCOMES), quote, min_size=1, max_size=3)
markets = st.dictionaries(st.sampled_from(MARKETS), outcomes, min_size=1, max_size=3)
odds = st.dictionaries(st.sampled_from(BOOKS), markets, max_size=3)


@st.composite
def event(draw: st.DrawFn, eid: str) -> dict[str, Any]:
    return {"id": eid, "sport": "basketball", "league": "basketball_nba", "home": "Home", "away": "Away",
            "commence": draw(st.sampled_from(["2026-11-25T19:00:00Z", "2026-11-25T20:00:00Z"])),
            "status": draw(st.sampled_from(["scheduled", "upcoming", "live", "final"])),
            "scores": draw(st.one_of(st.none(), st.fixed_dictionaries({"home": st.integers(0, 5),
                                                                       "away": st.integers(0, 5)}))),
            "markets": {"h2h": {"open": draw(st.booleans()), "live": True}},
            "odds": draw(odds)}


@st.composite
def snapshot(draw: st.DrawFn) -> dict[str, Any]:
    ids = draw(st.lists(st.sampled_from(EVENTS), unique=True, max_size=4))
    return {eid: draw(event(eid)) for eid in ids}


@settings(max_examples=300, deadline=None)
@given(snapshot(), snapshot(), st.integers(0, 100))
def test_applying_the_diff_to_the_old_snapshot_gives_the_new(old: dict[str, Any], new: dict[str, Any],
                                                             t: int) -> None:
    before = copy.deepcopy(old)
    changes = diff(old, new, t)
    assert apply(changes, old) == new
    assert old == before  # apply does not modify its input
    assert diff(new, new, t) == []


@settings(deadline=None)
@given(snapshot(), snapshot())
def test_event_changes_come_before_their_price_changes(old: dict[str, Any], new: dict[str, Any]) -> None:
    seen_prices: set[str] = set()
    for ch in diff(old, new, 1):
        if "kind" in ch:
            assert ch["event"] not in seen_prices
        else:
            seen_prices.add(ch["event"])
            assert set(ch) == {"event", "book", "market", "outcome", "price", "point", "t"}


def test_a_repoll_with_the_same_prices_produces_no_change() -> None:
    old = {"id": "e1", "odds": {"dk": {"h2h": {"A": {"price": -110, "point": None, "t": 5}}}}}
    fresh = {"id": "e1", "odds": {"dk": {"h2h": {"A": {"price": -110, "point": None, "t": 9}}}}}
    assert carry_forward(old, fresh)["odds"] == old["odds"]
    moved = {"id": "e1", "odds": {"dk": {"h2h": {"A": {"price": -115, "point": None, "t": 9}}}}}
    assert carry_forward(old, moved)["odds"]["dk"]["h2h"]["A"]["t"] == 9


def test_removed_price_and_removed_event_changes() -> None:
    ev = {"id": "e1", "sport": "s", "league": "l", "home": "A", "away": "B", "commence": "x", "status": "live",
          "scores": None, "markets": {}, "odds": {"dk": {"h2h": {"A": {"price": 150, "point": None, "t": 1}}}}}
    gone_price = {**ev, "odds": {}}
    changes = diff({"e1": ev}, {"e1": gone_price}, 7)
    assert changes == [{"event": "e1", "book": "dk", "market": "h2h", "outcome": "A", "price": None,
                        "point": None, "t": 7}]
    assert diff({"e1": ev}, {}, 8) == [{"event": "e1", "kind": "removed", "t": 8}]
    assert diff({}, {"e1": ev}, 9)[0] == {"event": "e1", "kind": "event", "data": header(ev), "t": 9}
