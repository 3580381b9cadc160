"""Who is saying hello: an access JWT (RS256, shared key ring or JWKS) or a single-use push ticket.

Push tickets are redeemed with ``shared.pushticket.redeem`` (one atomic claim of the ticket's hashed key,
so two nodes racing on one ticket cannot both accept it); restapi issues them with
``shared.pushticket.issue``. The expiry in the claims is checked here as well as by the key's TTL.

Either way the socket belongs to one access token: its ``jti`` (refused when revoked: Redis's cache,
else PostgreSQL, see ``shared.denylist``; the socket is closed when restapi later revokes it) and
its expiry (the socket is closed then, unless the client sends ``refresh`` with newer credentials
first).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import aiopg
import orjson
import psycopg2
from aiohttp import ClientSession, ClientTimeout

from shared import denylist, pushticket
from shared.errors import Unauthorized
from shared.redis import Redis
from shared.tokens import KeyRing, Verifier

log = logging.getLogger(__name__)



@dataclass(frozen=True, slots=True)
class Identity:
    """The authenticated user of a socket and the access token behind it."""

    user_id: int
    role: str
    agent_id: int | None
    jti: str | None = None
    expires_at: float | None = None  # unix seconds; None: no expiry known (an older ticket)


def _identity(claims: dict[str, Any], exp_claim: str) -> Identity:
    try:
        user_id = int(claims["sub"])
    except (KeyError, TypeError, ValueError):
        raise Unauthorized("Credentials name no user", code="invalid_token") from None
    agent, jti, exp = claims.get("agent_id"), claims.get("jti"), claims.get(exp_claim)
    return Identity(user_id, str(claims.get("role", "player")), agent if isinstance(agent, int) else None,
                    jti if isinstance(jti, str) else None,
                    float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None)


async def redeem_ticket(redis: Redis, ticket: str) -> dict[str, Any] | None:
    """The ticket's claims, deleting it atomically; None when unknown, used, malformed or expired."""
    try:
        claims = await pushticket.redeem(redis, ticket)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(claims, dict) or int(claims.get("exp", 0)) < time.time():
        return None
    return claims


class Authenticator:
    """Turns a ``hello`` token into an Identity or raises Unauthorized."""

    def __init__(self, redis: Redis, verifier: Verifier | None, pg: aiopg.Pool | None = None) -> None:
        self.redis = redis
        self.verifier = verifier
        self.pg = pg

    async def authenticate(self, token: str) -> Identity:
        """The identity behind a push ticket or an access JWT; Unauthorized when it is bad or revoked."""
        if token.count(".") == 2:  # compact JWS: header.payload.signature
            if self.verifier is None:
                raise Unauthorized("This node accepts push tickets only", code="invalid_token")
            identity = _identity(self.verifier.verify(token), "exp")
        else:
            claims = await redeem_ticket(self.redis, token)
            if claims is None:
                raise Unauthorized("Unknown, used or expired push ticket", code="invalid_ticket")
            identity = _identity(claims, "token_exp")
        if identity.expires_at is not None and identity.expires_at <= time.time():
            raise Unauthorized("The access token behind these credentials expired", code="token_expired")
        if identity.jti is not None and await self._revoked(identity.jti, identity.expires_at):
            raise Unauthorized("These credentials were revoked (logged out); log in again", code="token_revoked")
        return identity

    async def _revoked(self, jti: str, expires_at: float | None) -> bool:
        """Redis's cached answer, else PostgreSQL's (so a Redis that lost its data revives nothing)."""
        try:
            return await denylist.is_revoked(self.redis, self.pg, jti, expires_at or time.time() + 3600)
        except psycopg2.Error as exc:  # answered like Redis being down: close 1013, retry shortly
            raise ConnectionError(f"revocation lookup failed: {exc.__class__.__name__}") from None


async def load_verifier(keys_dir: Any, jwks_url: str) -> Verifier | None:
    """Public keys from the key ring folder and, when set, the JWKS URL; None when there are none."""
    public: dict[str, Any] = {}
    try:
        public.update(Verifier.from_ring(KeyRing.load(keys_dir)).public)
    except (FileNotFoundError, ValueError) as exc:
        log.warning("no JWT keys from AUTH_KEYS_DIR (%s)", exc)
    if jwks_url:
        async with ClientSession(timeout=ClientTimeout(total=5)) as session, session.get(jwks_url) as resp:
            resp.raise_for_status()
            public.update(Verifier.from_jwks(await resp.json()).public)
    if not public:
        log.warning("access JWTs cannot be verified on this node: push tickets only")
        return None
    return Verifier(public)
