"""gzip for JSON answers the client accepts compressed: the odds board's 190 KB list travels as ~20 KB.

Pages and hashed assets compress themselves (``restapi.web``); this covers the JSON API. Answers that
carry secrets (``/api/v1/auth/``: tokens, tickets) stay plain, so no compression side channel can
read them through a length that depends on attacker-chosen text in the same body (BREACH).
"""

from __future__ import annotations

import gzip
from collections import OrderedDict

from aiohttp import web
from aiohttp.typedefs import Handler

# Below this size gzip's header and the client's inflate cost more than the bytes they save.
MIN_BYTES = 1024
SECRET_PREFIXES = ("/api/v1/auth/",)
GZIP_MEMO_MAX = 256  # pre-encoded cached bodies (catalog reads) whose gzip form is kept
_gzip_memo: OrderedDict[str, bytes] = OrderedDict()


def compressible(path: str, content_type: str, size: int, accept_encoding: str) -> bool:
    """Should an answer of ``size`` bytes of ``content_type`` for ``path`` go gzipped?"""
    return (content_type == "application/json" and size >= MIN_BYTES and "gzip" in accept_encoding.lower()
            and not path.startswith(SECRET_PREFIXES))


@web.middleware
async def compression_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """gzip a JSON ``web.Response`` when ``compressible`` says so (errors and streams pass through)."""
    resp = await handler(request)
    if (request.method != "HEAD" and isinstance(resp, web.Response) and not resp.compression
            and "Content-Encoding" not in resp.headers):
        body = resp.body
        size = len(body) if isinstance(body, bytes | bytearray) else 0
        if compressible(request.path, resp.content_type, size, request.headers.get("Accept-Encoding", "")):
            resp.headers["Vary"] = "Accept-Encoding"
            resp.enable_compression(web.ContentCoding.gzip)
    return resp


def accepts_gzip(request: web.Request) -> bool:
    return "gzip" in request.headers.get("Accept-Encoding", "").lower()


def gzip_once(key: str, body: bytes) -> bytes:
    """``body`` gzipped, compressed once per ``key`` (a cached body's ETag) and then served from memory.

    The middleware compresses each answer anew; a cached read answering the same 190 KB many times a
    second would spend most of its time there, so it sends these bytes itself."""
    packed = _gzip_memo.get(key)
    if packed is None:
        packed = gzip.compress(body, compresslevel=6, mtime=0)
        _gzip_memo[key] = packed
        if len(_gzip_memo) > GZIP_MEMO_MAX:
            _gzip_memo.popitem(last=False)
    else:
        _gzip_memo.move_to_end(key)
    return packed
