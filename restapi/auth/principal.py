"""Who is calling: the verified access token of a request, and role checks every route group uses.

``principal(request)`` verifies the ``Authorization: Bearer`` access token (RS256, by kid) once per
request and caches the result on the request. ``require_role`` checks the role on every call; agent
endpoints use it so that the JWT and the role are checked on each request, not once per session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from restapi.keys import VERIFIER
from shared.errors import Forbidden, Unauthorized

ROLES = ("player", "agent", "admin")
_CACHE: web.RequestKey[Principal] = web.RequestKey("principal", object)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller."""

    user_id: int
    role: str
    agent_id: int | None
    jti: str
    exp: int
    claims: dict[str, Any]


def bearer_token(request: web.Request) -> str:
    """The token of an ``Authorization: Bearer`` header, or 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send an access token as 'Authorization: Bearer <token>'", code="missing_token")
    return token.strip()


async def principal(request: web.Request) -> Principal:
    """The verified caller of ``request`` (401 when the token is missing, invalid or expired)."""
    cached: Principal | None = request.get(_CACHE)
    if cached is not None:
        return cached
    claims = request.app[VERIFIER].verify(bearer_token(request))
    try:
        who = Principal(
            user_id=int(claims["sub"]),
            role=str(claims["role"]),
            agent_id=int(claims["agent_id"]) if claims.get("agent_id") is not None else None,
            jti=str(claims["jti"]),
            exp=int(claims["exp"]),
            claims=claims,
        )
    except (KeyError, TypeError, ValueError):
        raise Unauthorized("Token claims are incomplete", code="invalid_token") from None
    if who.role not in ROLES:
        raise Unauthorized("Token has an unknown role", code="invalid_token")
    request[_CACHE] = who
    return who


async def require_role(request: web.Request, *roles: str) -> Principal:
    """The caller, if their role is one of ``roles``; else 403."""
    who = await principal(request)
    if who.role not in roles:
        raise Forbidden(f"This needs the {' or '.join(roles)} role", code="wrong_role")
    return who
