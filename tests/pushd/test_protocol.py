"""The protocol core without I/O: parsing and validation of client frames, building of server frames."""

from __future__ import annotations

import struct

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pushd import protocol as p


def _payload(frame: bytes) -> bytes:
    n = frame[1] & 0x7F
    if n == 126:
        return frame[4:]
    if n == 127:
        return frame[10:]
    return frame[2:]


@given(st.binary(max_size=70_000))
def test_ws_frame_header_carries_the_exact_length(payload: bytes) -> None:
    frame = p.ws_frame(payload)
    assert frame[0] == 0x81 and _payload(frame) == payload
    n = frame[1] & 0x7F
    if n == 126:
        assert struct.unpack("!H", frame[2:4])[0] == len(payload)
    elif n == 127:
        assert struct.unpack("!Q", frame[2:10])[0] == len(payload)
    else:
        assert n == len(payload)


def test_spliced_frames_are_valid_json_with_op_first() -> None:
    odds = orjson.loads(_payload(p.odds_frame("sport:nba", "1-0", b'[{"event":"e1","price":-110}]')))
    assert list(odds) == ["op", "topic", "offset", "changes"] and odds["changes"][0]["price"] == -110
    snap = orjson.loads(_payload(p.snapshot_frame("sport:nba", 'ep"1', "2-0", [b'{"id":"a"}', b'{"id":"b"}'])))
    assert snap["epoch"] == 'ep"1' and [e["id"] for e in snap["events"]] == ["a", "b"]
    user = orjson.loads(_payload(p.user_frame(7, "3-1", "bet.graded", b'{"won":true}')))
    assert user == {"op": "user", "topic": "user:7", "offset": "3-1", "kind": "bet.graded", "data": {"won": True}}


def test_sub_parses_topics_and_since() -> None:
    cmd = p.parse('{"op":"sub","id":3,"topics":["sport:a","event:e1","sport:a"],'
                  '"since":{"sport:a":{"epoch":"k3","offset":"17-2"}}}', max_topics=5)
    assert cmd == p.Sub(3, ("sport:a", "event:e1"), {"sport:a": p.Since("k3", "17-2")})


@pytest.mark.parametrize(("raw", "code"), [
    (b"\xff\xfe", "bad_json"),
    ("null", "bad_frame"),
    ('{"op":1}', "unknown_op"),
    ('{"op":"sub","id":true,"topics":["sport:a"]}', "bad_request"),
    ('{"op":"sub","id":1,"topics":["sport:a","sport:b","sport:c"]}', "too_many_topics"),
    ('{"op":"sub","id":1,"topics":["sport:" ]}', "bad_topic"),
    ('{"op":"sub","id":1,"topics":["sport:a"],"since":{"sport:a":{"epoch":"x","offset":"1"}}}', "bad_offset"),
    ('{"op":"sub","id":1,"topics":["sport:a"],"since":{"sport:a":{"epoch":"a b","offset":"1-0"}}}', "bad_offset"),
    ('{"op":"hello","token":""}', "bad_request"),
])
def test_bad_frames_raise_their_code(raw: str | bytes, code: str) -> None:
    with pytest.raises(p.ProtocolError) as info:
        p.parse(raw, max_topics=2)
    assert info.value.code == code


@given(st.text(max_size=200))
def test_parse_never_raises_anything_but_protocol_error(raw: str) -> None:
    try:
        p.parse(raw, max_topics=4)
    except p.ProtocolError:
        pass


def test_offsets_sort_numerically() -> None:
    assert p.offset_key("10-0") > p.offset_key("9-5") and p.offset_key("9-10") > p.offset_key("9-9")
