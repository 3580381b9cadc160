"""The web app's refresh cookie and the CSRF check of requests that use it.

The web app logs in with ``"cookie": true``: its refresh token goes into an httpOnly,
SameSite=Strict cookie scoped to the refresh path (Secure when the page is HTTPS), never into page
scripts' reach; the access token lives in the page's memory. A request the cookie authenticates
must also carry an ``Origin`` of this site (a configured public origin, or the origin the request
was addressed to), so a cross-site page cannot make one even where SameSite is not enforced.
API clients keep sending their refresh token in the body and need no Origin.
"""

from __future__ import annotations

from aiohttp import web

from restapi.fields import printable
from restapi.keys import ORIGINS
from shared.errors import Forbidden

COOKIE = "wb_refresh"
PATH = "/api/v1/auth/refresh"


def check_origin(request: web.Request) -> str:
    """The request's ``Origin`` when it is this site; else 403 (``csrf_origin``)."""
    origin = request.headers.get("Origin", "")
    if not origin or origin == "null":
        raise Forbidden("This request must come from the WagerBabe web app", code="csrf_origin",
                        details={"origin": "missing"})
    own = f"{request.scheme}://{request.host}".lower()
    if origin.lower() != own and not request.app[ORIGINS].allows(origin):
        raise Forbidden("This request must come from the WagerBabe web app", code="csrf_origin",
                        details={"origin": printable(origin, 200)})
    return origin


def set_refresh(response: web.StreamResponse, request: web.Request, token: str, max_age: int) -> None:
    """Put the refresh token in the cookie (Secure when the page or the request is HTTPS)."""
    secure = request.secure or request.headers.get("Origin", "").lower().startswith("https://")
    response.set_cookie(COOKIE, token, path=PATH, max_age=max_age, httponly=True, secure=secure,
                        samesite="Strict")


def clear_refresh(response: web.StreamResponse) -> None:
    """Tell the browser to drop the cookie (logout)."""
    response.set_cookie(COOKIE, "", path=PATH, max_age=0, expires="Thu, 01 Jan 1970 00:00:00 GMT",
                        httponly=True, samesite="Strict")


def refresh_token(request: web.Request) -> str | None:
    """The refresh token of the cookie, when the request has one."""
    token = request.cookies.get(COOKIE, "")
    return token or None
