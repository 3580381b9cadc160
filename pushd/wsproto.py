"""The server side of RFC 6455 for pushd's own sockets: the upgrade request and client frames. No I/O.

pushd answers ``GET /ws`` itself instead of through aiohttp's ``WebSocketResponse`` (whose request,
parser, reader, writer, heartbeat timers and handler task cost ~15 KB a socket): this module is the
pure part of that, the byte handling, so it can be unit-tested apart from the connection state in
``pushd.front``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_HEAD = 8192  # a longer request head goes to aiohttp, which answers it (431/400)

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_DATA = (OP_CONT, OP_TEXT, OP_BINARY)
_CONTROL = (OP_CLOSE, OP_PING, OP_PONG)

Frame = tuple[int, bool, bytes]  # opcode, fin, unmasked payload


class WSError(Exception):
    """A client broke the protocol: close the socket with ``code`` (1002, 1009...) and ``reason``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    """Method, target and lower-cased headers of an HTTP/1.1 request head (without its blank line)."""
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
        return "", "", {}
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if sep:
            headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    return parts[0].decode("latin-1"), parts[1].decode("latin-1"), headers


def upgrade_key(method: str, target: str, headers: dict[str, str], path: str = "/ws") -> str | None:
    """The ``Sec-WebSocket-Key`` of a valid WebSocket upgrade of ``path``; None for any other request."""
    if method != "GET" or target.partition("?")[0] != path:
        return None
    if "websocket" not in headers.get("upgrade", "").lower():
        return None
    if "upgrade" not in (t.strip().lower() for t in headers.get("connection", "").split(",")):
        return None
    if headers.get("sec-websocket-version") != "13":
        return None
    key = headers.get("sec-websocket-key", "")
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            return None
    except (binascii.Error, ValueError):
        return None
    return key


def accept_response(key: str) -> bytes:
    """The ``101 Switching Protocols`` answer to an upgrade carrying ``key`` (no extension, no subprotocol)."""
    accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest())
    return (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\nServer: WagerBabe\r\n\r\n")


def unmask(mask: bytes, data: bytes) -> bytes:
    """``data`` XOR the repeated 4-byte ``mask`` (one big-int operation: client frames are small)."""
    n = len(data)
    if not n:
        return b""
    m = int.from_bytes((mask * (n // 4 + 1))[:n], "little")
    return (int.from_bytes(data, "little") ^ m).to_bytes(n, "little")


def parse_frames(buf: bytes, max_size: int) -> tuple[list[Frame], bytes]:
    """The complete client frames at the head of ``buf`` and the rest; WSError on a protocol violation."""
    frames: list[Frame] = []
    pos, n = 0, len(buf)
    while n - pos >= 2:
        b0, b1 = buf[pos], buf[pos + 1]
        if b0 & 0x70:
            raise WSError(1002, "reserved bits set (no extension was agreed)")
        if not b1 & 0x80:
            raise WSError(1002, "client frames must be masked")
        opcode, fin, length, head = b0 & 0x0F, bool(b0 & 0x80), b1 & 0x7F, 2
        if length == 126:
            if n - pos < 4:
                break
            (length,) = struct.unpack_from("!H", buf, pos + 2)
            head = 4
        elif length == 127:
            if n - pos < 10:
                break
            (length,) = struct.unpack_from("!Q", buf, pos + 2)
            head = 10
        if opcode in _CONTROL:
            if length > 125 or not fin:
                raise WSError(1002, "control frames are unfragmented and at most 125 bytes")
        elif opcode not in _DATA:
            raise WSError(1002, f"unknown opcode {opcode}")
        if length > max_size:
            raise WSError(1009, "frame too big")
        start = pos + head + 4
        end = start + length
        if n < end:
            break
        frames.append((opcode, fin, unmask(buf[pos + head:start], buf[start:end])))
        pos = end
    return frames, buf[pos:]


def close_code(payload: bytes) -> int:
    """The code of a client's close frame (1005: none given; 1002: a 1-byte payload, which RFC 6455
    5.5.1 does not allow)."""
    if len(payload) == 1:
        return 1002
    return int(struct.unpack("!H", payload[:2])[0]) if len(payload) >= 2 else 1005


# Codes a close frame may carry (RFC 6455 7.4, the IANA registry): 1004-1006 and 1015 never go on the
# wire, 1016-2999 are reserved for the protocol's future, 3000-4999 belong to applications.
_SENDABLE = frozenset((*range(1000, 1004), *range(1007, 1015)))


def close_answer(code: int) -> int:
    """The code to answer a client's close with: its own when that may be sent, else 1000."""
    return code if code in _SENDABLE or 3000 <= code < 5000 else 1000
