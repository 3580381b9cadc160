"""Who is calling: the verified access token of a request, and role checks every route group uses.

``principal(request)`` verifies the ``Authorization: Bearer`` access token (RS256, by kid) once per
request and caches the result on the request. In the same Redis round trip it refuses a token
whose ``jti`` was revoked (logout, revoked session; PostgreSQL answers when Redis does not know)
and counts the request against the caller's API rate limit (``API_RATE_LIMIT`` per
``API_RATE_WINDOW``; 429 with Retry-After past it).
``require_role`` checks the role on every call; agent endpoints use it so that the JWT and the role
are checked on each request, not once per session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import psycopg2
from aiohttp import web
from redis.exceptions import RedisError

from restapi.keys import PG, REDIS, SETTINGS, VERIFIER
from shared import denylist, ratelimit
from shared.errors import Forbidden, RateLimited, Unauthorized, Unavailable

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

    @property
    def session_id(self) -> str | None:
        """The session (device) the token was issued to, when it came from a login."""
        sid = self.claims.get("sid")
        return sid if isinstance(sid, str) else None


def bearer_token(request: web.Request) -> str:
    """The token of an ``Authorization: Bearer`` header, or 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send an access token as 'Authorization: Bearer <token>'", code="missing_token")
    return token.strip()


def cached_principal(request: web.Request) -> Principal | None:
    """The caller if a handler of ``request`` already verified one, else None (no I/O)."""
    return request.get(_CACHE)


async def principal(request: web.Request) -> Principal:
    """The verified caller of ``request`` (401 when the token is missing, invalid, expired or revoked)."""
    who, _ = await principal_and_get(request, None)
    return who


async def principal_and_get(
    request: web.Request, key_of: Callable[[int], str] | None
) -> tuple[Principal, bytes | None]:
    """``principal`` plus a Redis GET of ``key_of(user_id)`` in the same round trip (for cached reads).

    The token is verified first (pure CPU), so the key can depend on the caller; the GET runs in the
    pipeline that checks the denylist and the rate limit, saving one round trip per cached answer.
    """
    cached: Principal | None = request.get(_CACHE)
    if cached is not None:
        if key_of is None:
            return cached, None
        # Our clients never set decode_responses, so values are bytes.
        return cached, cast(bytes | None, await request.app[REDIS].get(key_of(cached.user_id)))
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
    fetched = await _check_denylist_and_rate(request, who, key_of(who.user_id) if key_of else None)
    request[_CACHE] = who
    return who, fetched


async def require_role(request: web.Request, *roles: str) -> Principal:
    """The caller, if their role is one of ``roles``; else 403."""
    who = await principal(request)
    if who.role not in roles:
        raise Forbidden(f"This needs the {' or '.join(roles)} role", code="wrong_role")
    return who


async def _check_denylist_and_rate(request: web.Request, who: Principal, get: str | None) -> bytes | None:
    """One round trip: is the jti revoked, is the caller within the API limit (and ``get``)?

    Redis caches revocation (``shared.denylist``); a token it knows nothing about, as after Redis lost
    its data, is looked up in PostgreSQL once and the answer cached, then checked again.
    """
    settings = request.app[SETTINGS]
    redis = request.app[REDIS]
    limit = ratelimit.Limit("api", settings.api_limit, settings.api_window)
    deny, live = denylist.key(who.jti), denylist.live_key(who.jti)
    value: list[Any] = []
    try:
        for attempt in (1, 2):
            if get is None:  # one script does both checks
                hit = await ratelimit.hit_unless(redis, limit, str(who.user_id), deny, live)
                denied, known = hit is None, hit is not ratelimit.UNKNOWN
            else:  # the cached reads also GET their answer in the same round trip
                pipe = redis.pipeline(transaction=False)
                pipe.exists(deny, live)
                pipe.exists(deny)
                ratelimit.queue_hit(pipe, limit, str(who.user_id))
                pipe.get(get)
                either, exists, raw, *value = await pipe.execute()
                denied, known, hit = bool(exists), bool(either), ratelimit.decision(raw)
            if denied or known or attempt == 2:
                break
            revoked = await _revoked_in_pg(request, who)
            await denylist.remember(redis, who.jti, who.exp, revoked)
            if revoked:
                denied = True
                break
            if get is not None:  # counted and fetched already
                break
    except RedisError:
        # Fail closed: without Redis we cannot tell a revoked token from a good one.
        raise Unavailable("Sessions cannot be checked right now; retry shortly", code="redis_unavailable") from None
    if denied or hit is None:
        raise Unauthorized("This token was revoked (logged out); log in again", code="token_revoked")
    if hit is ratelimit.UNKNOWN:  # the answer could not be cached: do not guess
        raise Unavailable("Sessions cannot be checked right now; retry shortly", code="redis_unavailable")
    if not hit.allowed:
        raise RateLimited("Too many requests; slow down", retry_after=hit.retry_after,
                          details={"limit": limit.limit, "window_seconds": limit.window})
    return cast(bytes | None, value[0]) if value else None


async def _revoked_in_pg(request: web.Request, who: Principal) -> bool:
    try:
        return await denylist.revoked_in_pg(request.app[PG], who.jti)
    except (psycopg2.Error, OSError, TimeoutError):
        raise Unavailable("Sessions cannot be checked right now; retry shortly", code="pg_unavailable") from None
