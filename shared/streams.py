"""The Redis contract between services: key names and the schema of every stream entry.

    odds:{sport}    stream  {v, ts, trace, changes}        ingest -> pushd, restapi
    snap:{sport}    hash    event_id -> odds, _offset, _epoch  ingest -> pushd, restapi
    notify          stream  {v, ts, trace, user, kind, data}   restapi -> pushd (user 0: every socket)
    results         stream  {v, ts, trace, event, sport, status, home, away}  ingest -> restapi jobs

Every entry carries ``trace`` (a W3C traceparent) so one trace follows a change across services.
Field values are bytes/str in Redis; structured values are orjson-encoded.

``{sport}`` is The Odds API sport key, which the database calls a league (``leagues.key``, e.g.
``basketball_nba``); the ``sport`` field of a ``results`` entry is that key too.

``snap:{sport}`` maps each event id to the orjson of the event's full odds state, plus ``_offset``
(the id of the last ``odds:{sport}`` entry applied, written in the same MULTI as that XADD) and
``_epoch`` (random, set when the stream is first created or recreated)::

    {"id": "e123", "sport": "basketball", "league": "basketball_nba",
     "home": "Boston Celtics", "away": "Los Angeles Lakers",
     "commence": "2026-11-25T19:00:00Z",
     "status": "scheduled" | "upcoming" | "live" | "awaiting" | "final" | "cancelled",
     "scores": {"home": 101, "away": 99} | null,
     "markets": {"h2h": {"open": true, "live": true}, "spreads": {...}, "totals": {...}},
     "odds": {"draftkings": {"h2h": {"Boston Celtics": {"price": -150, "point": null, "t": 1732…},
                                     "Los Angeles Lakers": {"price": 130, "point": null, "t": 1732…}},
                             "totals": {"Over": {"price": -110, "point": 221.5, "t": 1732…}, ...}}}}

Outcome names follow The Odds API: the team name for h2h and spreads ("Draw" in three-way h2h),
"Over"/"Under" for totals. ``t`` is when that book last changed that price (ms since the epoch).

The ``changes`` of an ``odds:{sport}`` entry are a list of three kinds, applied in order
(``ingest.differ.apply`` is the reference; applying every entry to the snapshot at the entry's
offset gives the snapshot at the next one):

    price   {event, book, market, outcome, price, point, t}    price None: taken off the board
    event   {event, kind: "event", data: {id, sport, league, home, away, commence, status,
             scores, markets}, t}                               an event added or its header changed
    removed {event, kind: "removed", t}                         the event left the board

Price changes carry no ``kind`` (the DESIGN's change shape); an event change comes before the price
changes of the same event in one entry.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import orjson

from shared import tracing
from shared.redis import Redis

VERSION = 1
NOTIFY = "notify"
RESULTS = "results"
PUSHD_NODES = "pushd:nodes"
SNAP_OFFSET = "_offset"
SNAP_EPOCH = "_epoch"
NOTIFY_KINDS = ("bet.accepted", "bet.graded", "balance.changed", "settlement.reminder", "account.status",
                "session.revoked", "switches.changed")
NOTIFY_MAXLEN = 100_000  # the notify stream keeps about this many entries


def odds_stream(sport: str) -> str:
    """The stream of odds changes for one sport."""
    return f"odds:{sport}"


def snap_key(sport: str) -> str:
    """The hash holding one sport's current odds snapshot."""
    return f"snap:{sport}"


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True, slots=True)
class Change:
    """One price change: American odds ``price`` (None = taken off the board), optional ``point``."""

    event: str
    book: str
    market: str
    outcome: str
    price: int | None
    point: float | None
    t: int  # ms since the epoch when the book last changed this price (or ingest first saw it)


def text(value: Any) -> str:
    """A Redis reply (bytes, or anything else) as ``str``: bytes are decoded as UTF-8."""
    return value.decode() if isinstance(value, bytes) else str(value)


def parse_id(stream_id: bytes | str) -> tuple[int, int]:
    """A stream entry id as a sortable pair: ``'1732-5'`` -> ``(1732, 5)``; a bare ``'1732'`` is ``(1732, 0)``."""
    ms, _, seq = text(stream_id).partition("-")
    return int(ms), int(seq or 0)


def encode_odds(changes: list[dict[str, Any]] | list[Change], *, ts: int | None = None) -> dict[str, bytes]:
    """Fields of one ``odds:{sport}`` entry."""
    items = [asdict(c) if isinstance(c, Change) else c for c in changes]
    return {
        "v": str(VERSION).encode(),
        "ts": str(ts or now_ms()).encode(),
        "trace": tracing.outgoing_traceparent().encode(),
        "changes": orjson.dumps(items),
    }


def decode_odds(fields: dict[Any, Any]) -> dict[str, Any]:
    """An ``odds:{sport}`` entry as ``{v, ts, trace, changes}``."""
    f = {text(k): v for k, v in fields.items()}
    return {
        "v": int(text(f.get("v", VERSION))),
        "ts": int(text(f.get("ts", 0))),
        "trace": text(f.get("trace", "")),
        "changes": orjson.loads(f["changes"]) if "changes" in f else [],
    }


def encode_notify(user_id: int, kind: str, data: dict[str, Any]) -> dict[str, bytes]:
    """Fields of one ``notify`` entry for ``user_id``."""
    if kind not in NOTIFY_KINDS:
        raise ValueError(f"unknown notify kind {kind!r}")
    return {
        "v": str(VERSION).encode(),
        "ts": str(now_ms()).encode(),
        "trace": tracing.outgoing_traceparent().encode(),
        "user": str(user_id).encode(),
        "kind": kind.encode(),
        "data": orjson.dumps(data),
    }


async def notify(redis: Redis, user_id: int, kind: str, data: dict[str, Any]) -> None:
    """Append a private event for ``user_id`` to the ``notify`` stream (pushd delivers it to ``user:{id}``)."""
    fields: dict[Any, Any] = encode_notify(user_id, kind, data)
    await redis.xadd(NOTIFY, fields, maxlen=NOTIFY_MAXLEN, approximate=True)


def decode_notify(fields: dict[Any, Any]) -> dict[str, Any]:
    """A ``notify`` entry as ``{v, ts, trace, user, kind, data}``."""
    f = {text(k): v for k, v in fields.items()}
    return {
        "v": int(text(f.get("v", VERSION))),
        "ts": int(text(f.get("ts", 0))),
        "trace": text(f.get("trace", "")),
        "user": int(text(f["user"])),
        "kind": text(f["kind"]),
        "data": orjson.loads(f["data"]) if "data" in f else {},
    }


def encode_result(event: str, sport: str, status: str, home: int | None, away: int | None) -> dict[str, bytes]:
    """Fields of one ``results`` entry: a final (or cancelled) score."""
    if status not in ("final", "cancelled"):
        raise ValueError(f"result status must be final or cancelled, not {status!r}")
    return {
        "v": str(VERSION).encode(),
        "ts": str(now_ms()).encode(),
        "trace": tracing.outgoing_traceparent().encode(),
        "event": event.encode(),
        "sport": sport.encode(),
        "status": status.encode(),
        "home": b"" if home is None else str(home).encode(),
        "away": b"" if away is None else str(away).encode(),
    }


def decode_result(fields: dict[Any, Any]) -> dict[str, Any]:
    """A ``results`` entry as ``{v, ts, trace, event, sport, status, home, away}``."""
    f = {text(k): text(v) for k, v in fields.items()}
    return {
        "v": int(f.get("v", VERSION)),
        "ts": int(f.get("ts", 0)),
        "trace": f.get("trace", ""),
        "event": f["event"],
        "sport": f["sport"],
        "status": f["status"],
        "home": int(f["home"]) if f.get("home") else None,
        "away": int(f["away"]) if f.get("away") else None,
    }
