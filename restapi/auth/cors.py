"""CORS for approved origins only (``CORS_ORIGINS``), preflight included.

An allowed origin gets ``Access-Control-Allow-Origin`` echoed (never ``*``) with ``Vary: Origin``;
any other origin gets no CORS headers, so browsers block the response, and its preflight a 403 in
the error shape. Tokens travel in the Authorization header, not cookies, so credentials stay off.
"""

from __future__ import annotations

from aiohttp import web

from restapi.fields import printable
from restapi.keys import SETTINGS
from shared.errors import Forbidden
from shared.web import Handler, error_response

ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
ALLOWED_HEADERS = ("authorization", "content-type", "idempotency-key", "traceparent", "accept")
EXPOSED_HEADERS = "Retry-After, traceparent"


def preflight_headers(origin: str, requested: str, max_age: int) -> dict[str, str] | None:
    """Headers of a preflight answer for an allowed origin, or None when a requested header is not allowed."""
    asked = [h.strip().lower() for h in requested.split(",") if h.strip()]
    if any(h not in ALLOWED_HEADERS for h in asked):
        return None
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": ALLOWED_METHODS,
        "Access-Control-Allow-Headers": ", ".join(asked) if asked else "authorization, content-type",
        "Access-Control-Max-Age": str(max_age),
        "Vary": "Origin",
    }


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer preflights and add CORS headers for allowed origins."""
    origin = request.headers.get("Origin")
    if origin is None:
        return await handler(request)
    settings = request.app[SETTINGS]
    allowed = origin in settings.cors_origins
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        if not allowed:
            # Returned, not raised: this middleware sits outside the one that maps errors.
            return error_response(Forbidden("This origin may not call the API", code="cors_origin_denied",
                                            details={"origin": printable(origin, 200)}))
        headers = preflight_headers(origin, request.headers.get("Access-Control-Request-Headers", ""),
                                    settings.cors_max_age)
        if headers is None:
            return error_response(Forbidden("A requested header is not allowed", code="cors_header_denied",
                                            details={"allowed": list(ALLOWED_HEADERS)}))
        return web.Response(status=204, headers=headers)
    response = await handler(request)
    if allowed:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        response.headers.add("Vary", "Origin")
    return response
