"""The pure differ: (previous snapshot, new snapshot) -> changes, and ``apply`` that replays them.

``apply(diff(old, new, t), old) == new`` for any two snapshots without empty odds containers
(property-tested). Change shapes are documented in ``shared/streams.py``.
"""

from __future__ import annotations

import copy
from typing import Any, cast

from ingest.model import EventState, Snapshot

HEADER = ("id", "sport", "league", "home", "away", "commence", "status", "scores", "markets")
Change = dict[str, Any]


def header(event: EventState) -> dict[str, Any]:
    """The event without its odds: what an ``event`` change carries."""
    return {k: event.get(k) for k in HEADER}


def _quotes(odds: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(book, market, outcome): quote
            for book, markets in odds.items()
            for market, outcomes in markets.items()
            for outcome, quote in outcomes.items()}


def diff_event(event_id: str, old: EventState | None, new: EventState, t: int) -> list[Change]:
    """Changes that turn ``old`` (None: absent) into ``new`` for one event."""
    changes: list[Change] = []
    if old is None or header(old) != header(new):
        changes.append({"event": event_id, "kind": "event", "data": header(new), "t": t})
    if old is not None and old.get("odds") == new.get("odds"):
        return changes  # the common case on a re-poll: one C-level comparison instead of a walk
    before = _quotes(old.get("odds", {})) if old else {}
    after = _quotes(new.get("odds", {}))
    for key in sorted(before.keys() | after.keys()):
        q_old, q_new = before.get(key), after.get(key)
        if q_old == q_new:
            continue
        book, market, outcome = key
        if q_new is None:
            changes.append({"event": event_id, "book": book, "market": market, "outcome": outcome,
                            "price": None, "point": None, "t": t})
        else:
            changes.append({"event": event_id, "book": book, "market": market, "outcome": outcome,
                            "price": q_new["price"], "point": q_new["point"], "t": q_new["t"]})
    return changes


def diff(old: Snapshot, new: Snapshot, t: int) -> list[Change]:
    """Every change from ``old`` to ``new``; ``t`` stamps event changes and removals."""
    changes: list[Change] = [{"event": eid, "kind": "removed", "t": t} for eid in sorted(old.keys() - new.keys())]
    for eid in sorted(new):
        changes.extend(diff_event(eid, old.get(eid), new[eid], t))
    return changes


def apply(changes: list[Change], snapshot: Snapshot) -> Snapshot:
    """A new snapshot: ``snapshot`` with ``changes`` applied in order (the input is not modified)."""
    out = copy.deepcopy(snapshot)
    for ch in changes:
        apply_one(ch, out)
    return out


def apply_one(ch: Change, snap: Snapshot) -> None:
    """Apply one change in place."""
    eid = ch["event"]
    kind = ch.get("kind")
    if kind == "removed":
        snap.pop(eid, None)
        return
    if kind == "event":
        previous = snap.get(eid)
        # ``data`` is the event's header (every EventState key but ``odds``), as ``header`` built it.
        snap[eid] = cast(EventState, {**copy.deepcopy(ch["data"]), "odds": previous["odds"] if previous else {}})
        return
    event = snap.get(eid)
    if event is None:
        return  # a price for an event the reader never saw: nothing to attach it to
    odds = event.setdefault("odds", {})
    book, market, outcome = ch["book"], ch["market"], ch["outcome"]
    if ch["price"] is None:
        outcomes = odds.get(book, {}).get(market, {})
        outcomes.pop(outcome, None)
        if not outcomes:
            odds.get(book, {}).pop(market, None)
        if book in odds and not odds[book]:
            del odds[book]
        return
    odds.setdefault(book, {}).setdefault(market, {})[outcome] = {
        "price": ch["price"], "point": ch["point"], "t": ch["t"]}


def carry_forward(old: EventState | None, new: EventState) -> EventState:
    """``new`` with each unchanged price keeping its old ``t`` (a re-poll is not a price change)."""
    if not old:
        return new
    before = old.get("odds", {})
    for book, markets in new.get("odds", {}).items():
        for market, outcomes in markets.items():
            for outcome, quote in outcomes.items():
                prev = before.get(book, {}).get(market, {}).get(outcome)
                if prev and prev["price"] == quote["price"] and prev["point"] == quote["point"]:
                    quote["t"] = prev["t"]
    return new


def price_rows(changes: list[Change]) -> list[Change]:
    """Only the price changes (for odds_history and the current-odds table)."""
    return [c for c in changes if "kind" not in c]
