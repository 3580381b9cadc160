"""pushd's own WebSocket byte handling (``pushd.wsproto``): upgrades and client frames, no I/O."""

from __future__ import annotations

import os
import struct

import pytest

from pushd import wsproto as w

UPGRADE = {"upgrade": "websocket", "connection": "keep-alive, Upgrade", "sec-websocket-version": "13",
           "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ=="}


def client_frame(payload: bytes, opcode: int = w.OP_TEXT, fin: bool = True, masked: bool = True) -> bytes:
    """A client frame as a browser sends it (masked with a random key)."""
    n = len(payload)
    b0 = (0x80 if fin else 0) | opcode
    mbit = 0x80 if masked else 0
    if n < 126:
        head = bytes((b0, mbit | n))
    elif n < 65536:
        head = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mbit | 127, n)
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def test_the_rfc_example_key_gets_the_rfc_accept_value() -> None:
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in w.accept_response(UPGRADE["sec-websocket-key"])


def test_a_valid_upgrade_of_ws_gives_its_key_and_anything_else_none() -> None:
    head = b"GET /ws?x=1 HTTP/1.1\r\nHost: a\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n" \
           b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="
    assert w.upgrade_key(*w.parse_head(head)) == UPGRADE["sec-websocket-key"]
    assert w.upgrade_key("GET", "/ws", UPGRADE) == UPGRADE["sec-websocket-key"]
    assert w.upgrade_key("POST", "/ws", UPGRADE) is None
    assert w.upgrade_key("GET", "/healthz", UPGRADE) is None
    assert w.upgrade_key("GET", "/ws", {**UPGRADE, "sec-websocket-version": "8"}) is None
    assert w.upgrade_key("GET", "/ws", {**UPGRADE, "connection": "keep-alive"}) is None
    assert w.upgrade_key("GET", "/ws", {**UPGRADE, "sec-websocket-key": "not base64!"}) is None
    assert w.upgrade_key("GET", "/ws", {**UPGRADE, "sec-websocket-key": "c2hvcnQ="}) is None  # 5 bytes
    assert w.parse_head(b"garbage") == ("", "", {})


@pytest.mark.parametrize("size", [0, 1, 125, 126, 4000, 70_000])
def test_frames_of_every_length_encoding_unmask_to_their_payload(size: int) -> None:
    payload = os.urandom(size)
    frames, rest = w.parse_frames(client_frame(payload, w.OP_BINARY) + client_frame(b"x"), 100_000)
    assert frames == [(w.OP_BINARY, True, payload), (w.OP_TEXT, True, b"x")] and rest == b""


def test_a_partial_frame_waits_for_its_bytes() -> None:
    data = client_frame(b'{"op":"ping"}')
    for cut in range(len(data)):
        frames, rest = w.parse_frames(data[:cut], 1000)
        assert frames == [] and rest == data[:cut]
        frames, rest = w.parse_frames(rest + data[cut:], 1000)
        assert frames == [(w.OP_TEXT, True, b'{"op":"ping"}')] and rest == b""


@pytest.mark.parametrize(("data", "code"), [
    (client_frame(b"x", masked=False), 1002),
    (bytes((0xC1, 0x80)) + b"\0\0\0\0", 1002),  # RSV1 without an agreed extension
    (client_frame(b"x", opcode=0x3), 1002),
    (client_frame(b"x" * 126, opcode=w.OP_PING), 1002),
    (client_frame(b"x", opcode=w.OP_PING, fin=False), 1002),
    (client_frame(b"x" * 2000), 1009),
], ids=["unmasked", "rsv", "opcode", "long-ping", "fragmented-ping", "too-big"])
def test_protocol_violations_name_their_close_code(data: bytes, code: int) -> None:
    with pytest.raises(w.WSError) as err:
        w.parse_frames(data, 1024)
    assert err.value.code == code and err.value.reason


def test_close_code_reads_the_code_or_1005() -> None:
    assert w.close_code(struct.pack("!H", 4001) + b"bye") == 4001
    assert w.close_code(b"") == 1005
    assert w.close_code(b"\x03") == 1002  # one byte cannot hold a code: a malformed close


def test_a_close_is_answered_with_its_code_only_when_that_code_may_be_sent() -> None:
    for code in (1000, 1001, 1002, 1003, 1007, 1008, 1011, 1014, 3000, 4001, 4999):
        assert w.close_answer(code) == code
    for code in (999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535):
        assert w.close_answer(code) == 1000
