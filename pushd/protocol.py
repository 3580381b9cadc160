"""The pushd wire protocol: client frame parsing and validation, server frame building. No I/O.

Server frames are built as the complete WebSocket frame (header + JSON payload) so the hub can
write the same bytes to every subscriber's transport. Stream payloads (``changes``, snapshot
event values, notify ``data``) are spliced in as the raw JSON that Redis holds: they were encoded
once by their writer and are never decoded and re-encoded on the fan-out path.
See docs/protocol.md for every frame and close code.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from typing import Any

import orjson

from shared.errors import BadRequest
from shared.streams import parse_id

# Close codes (RFC 6455 range 4000-4999 is ours).
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL = 1011
CLOSE_RESTART = 1012
CLOSE_BAD_REQUEST = 4000
CLOSE_UNAUTHORIZED = 4001
CLOSE_FORBIDDEN = 4003
CLOSE_SLOW = 4008
CLOSE_RATE_LIMITED = 4029

_TOPIC = re.compile(r"^(sport|event|user):([A-Za-z0-9_.\-]{1,64})$")
_OFFSET = re.compile(r"^[0-9]{1,20}-[0-9]{1,20}$")
_EPOCH = re.compile(r"^[A-Za-z0-9_\-]{0,64}$")
OPS = ("hello", "sub", "unsub", "ping", "refresh")


class ProtocolError(BadRequest):
    """A client mistake: answered with an ``error`` frame (``close`` set: then closed with that code).

    Before ``hello`` succeeds every error ends the socket, with ``ws_close``: 4001 unless ``close`` says.
    """

    ws_close = CLOSE_UNAUTHORIZED

    def __init__(self, code: str, message: str, *, req_id: Any = None, close: int | None = None,
                 topic: str | None = None) -> None:
        super().__init__(message, code=code)
        if close:
            self.ws_close = close
        self.req_id = req_id
        self.close = close
        self.topic = topic


@dataclass(frozen=True, slots=True)
class Since:
    """Where a client stands in one topic: the stream's epoch and the last offset it holds."""

    epoch: str
    offset: str


@dataclass(frozen=True, slots=True)
class Hello:
    token: str


@dataclass(frozen=True, slots=True)
class Sub:
    req_id: int | str
    topics: tuple[str, ...]
    since: dict[str, Since] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Unsub:
    req_id: int | str
    topics: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Ping:
    req_id: int | str | None


@dataclass(frozen=True, slots=True)
class Refresh:
    """Newer credentials of the same user, before the current access token expires."""

    req_id: int | str
    token: str


Command = Hello | Sub | Unsub | Ping | Refresh


def split_topic(topic: str) -> tuple[str, str]:
    """``("sport", "basketball_nba")`` for ``"sport:basketball_nba"``; ProtocolError when malformed."""
    m = _TOPIC.match(topic) if isinstance(topic, str) else None
    if m is None:
        raise ProtocolError("bad_topic", f"Malformed topic {str(topic)[:80]!r}: use sport:KEY, event:ID or user:ID",
                            topic=str(topic)[:80])
    return m.group(1), m.group(2)


def offset_key(offset: str) -> tuple[int, int]:
    """A stream id as a sortable pair."""
    return parse_id(offset)


def _req_id(doc: dict[str, Any]) -> int | str:
    rid = doc.get("id")
    if isinstance(rid, bool) or not isinstance(rid, int | str) or (isinstance(rid, str) and len(rid) > 64):
        raise ProtocolError("bad_request", "`id` is required: an integer or a string of at most 64 characters")
    return rid


def _topics(doc: dict[str, Any], rid: Any, max_topics: int) -> tuple[str, ...]:
    topics = doc.get("topics")
    if not isinstance(topics, list) or not topics:
        raise ProtocolError("bad_request", "`topics` must be a non-empty list of strings", req_id=rid)
    if len(topics) > max_topics:
        raise ProtocolError("too_many_topics", f"At most {max_topics} topics per socket", req_id=rid)
    out: list[str] = []
    for t in topics:
        try:
            split_topic(t)
        except ProtocolError as exc:
            exc.req_id = rid
            raise
        if t not in out:
            out.append(t)
    return tuple(out)


def _since(doc: dict[str, Any], rid: Any, topics: tuple[str, ...]) -> dict[str, Since]:
    raw = doc.get("since", {})
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ProtocolError("bad_request", "`since` must map topics to {epoch, offset}", req_id=rid)
    out: dict[str, Since] = {}
    for topic, pos in raw.items():
        if topic not in topics:
            raise ProtocolError("bad_request", f"`since` names {topic[:80]!r}, which is not in `topics`",
                                req_id=rid, topic=topic[:80])
        if not isinstance(pos, dict):
            raise ProtocolError("bad_offset", "each `since` value must be {epoch, offset}", req_id=rid, topic=topic)
        epoch, offset = pos.get("epoch", ""), pos.get("offset")
        if not isinstance(epoch, str) or not _EPOCH.match(epoch):
            raise ProtocolError("bad_offset", "`epoch` must be the string a snapshot or subscribed frame gave",
                                req_id=rid, topic=topic)
        if not isinstance(offset, str) or not _OFFSET.match(offset):
            raise ProtocolError("bad_offset", "`offset` must be a stream id such as \"1732000000000-0\"",
                                req_id=rid, topic=topic)
        out[topic] = Since(epoch, offset)
    return out


def parse(data: str | bytes, *, max_topics: int) -> Command:
    """Parse one client text frame into a command, or raise ProtocolError saying what is wrong."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise ProtocolError("bad_json", "Frame is not valid UTF-8 JSON") from None
    if not isinstance(doc, dict):
        raise ProtocolError("bad_frame", "Frame must be a JSON object with an `op`")
    op = doc.get("op")
    if op not in OPS:
        raise ProtocolError("unknown_op", f"Unknown op {str(op)[:40]!r}; expected one of {', '.join(OPS)}",
                            req_id=doc.get("id") if isinstance(doc.get("id"), int | str) else None)
    if op == "hello":
        token = doc.get("token")
        if not isinstance(token, str) or not token or len(token) > 4096:
            raise ProtocolError("bad_request", "`hello` needs a `token`: a push ticket or an access JWT",
                                close=CLOSE_UNAUTHORIZED)
        return Hello(token)
    if op == "ping":
        rid = doc.get("id")
        return Ping(rid if isinstance(rid, int | str) and not isinstance(rid, bool) else None)
    rid = _req_id(doc)
    if op == "refresh":
        token = doc.get("token")
        if not isinstance(token, str) or not token or len(token) > 4096:
            raise ProtocolError("bad_request", "`refresh` needs a `token`: a push ticket or an access JWT",
                                req_id=rid)
        return Refresh(rid, token)
    topics = _topics(doc, rid, max_topics)
    if op == "unsub":
        return Unsub(rid, topics)
    return Sub(rid, topics, _since(doc, rid, topics))


# ---- server frames ---------------------------------------------------------------------------

def ws_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """A complete unmasked server WebSocket frame (FIN set) carrying ``payload``."""
    n = len(payload)
    if n < 126:
        return bytes((0x80 | opcode, n)) + payload
    if n < 65536:
        return struct.pack("!BBH", 0x80 | opcode, 126, n) + payload
    return struct.pack("!BBQ", 0x80 | opcode, 127, n) + payload


def close_frame(code: int, reason: str = "") -> bytes:
    """A WebSocket close frame with ``code`` and a short reason."""
    return ws_frame(struct.pack("!H", code) + reason.encode()[:120], opcode=0x8)


def frame(doc: dict[str, Any]) -> bytes:
    """A text frame holding ``doc`` as JSON (``op`` first)."""
    return ws_frame(orjson.dumps(doc))


def odds_frame(topic: str, offset: str, changes_json: bytes) -> bytes:
    """``{"op":"odds","topic","offset","changes"}`` with ``changes_json`` spliced in as-is."""
    return ws_frame(b'{"op":"odds","topic":"' + topic.encode() + b'","offset":"' + offset.encode()
                    + b'","changes":' + changes_json + b"}")


def snapshot_frame(topic: str, epoch: str, offset: str, events_json: list[bytes]) -> bytes:
    """``{"op":"snapshot","topic","epoch","offset","events"}`` with each event's raw JSON spliced in."""
    return ws_frame(b'{"op":"snapshot","topic":"' + topic.encode() + b'","epoch":' + orjson.dumps(epoch)
                    + b',"offset":"' + offset.encode() + b'","events":[' + b",".join(events_json) + b"]}")


def recovering_frame(topic: str) -> bytes:
    """``{"op":"recovering","topic"}``: the feed lost its data and is being rebuilt; a snapshot follows.

    Sent instead of a snapshot while ``snap:{sport}`` has no epoch (Redis came back empty and
    ingest has not republished yet), so a client never mistakes "no data" for an empty board."""
    return frame({"op": "recovering", "topic": topic})


def user_frame(user_id: int, offset: str, kind: str, data_json: bytes) -> bytes:
    """``{"op":"user","topic","offset","kind","data"}`` for one private event."""
    return ws_frame(b'{"op":"user","topic":"user:' + str(user_id).encode() + b'","offset":"' + offset.encode()
                    + b'","kind":' + orjson.dumps(kind) + b',"data":' + data_json + b"}")


def broadcast_frame(offset: str, kind: str, data_json: bytes) -> bytes:
    """``{"op":"broadcast","offset","kind","data"}``: an event for every socket (e.g. ``switches.changed``)."""
    return ws_frame(b'{"op":"broadcast","offset":"' + offset.encode() + b'","kind":' + orjson.dumps(kind)
                    + b',"data":' + data_json + b"}")


def welcome_frame(session: str, node: str, ping: float, user_id: int, expires_at: float | None = None) -> bytes:
    return frame({"op": "welcome", "session": session, "node": node, "ping": ping, "user": user_id,
                  "expires_at": None if expires_at is None else int(expires_at)})


def subscribed_frame(req_id: Any, topics: list[str], recovered: dict[str, bool], epochs: dict[str, str]) -> bytes:
    return frame({"op": "subscribed", "id": req_id, "topics": topics, "recovered": recovered, "epochs": epochs})


def unsubscribed_frame(req_id: Any, topics: list[str]) -> bytes:
    return frame({"op": "unsubscribed", "id": req_id, "topics": topics})


def error_frame(code: str, message: str, req_id: Any = None, topic: str | None = None) -> bytes:
    doc: dict[str, Any] = {"op": "error", "id": req_id, "code": code, "message": message}
    if topic is not None:
        doc["topic"] = topic
    return frame(doc)


def refreshed_frame(req_id: Any, expires_at: float | None) -> bytes:
    return frame({"op": "refreshed", "id": req_id, "expires_at": None if expires_at is None else int(expires_at)})


def pong_frame(req_id: Any) -> bytes:
    return frame({"op": "pong", "id": req_id})


def reconnect_frame(after_ms: int) -> bytes:
    return frame({"op": "reconnect", "after_ms": after_ms})
