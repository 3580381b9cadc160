"""Who is saying hello: an access JWT (RS256, shared key ring or JWKS) or a single-use push ticket.

Push tickets are redeemed with ``shared.pushticket.redeem`` (one GETDEL of the ticket's hashed key,
so two nodes racing on one ticket cannot both accept it); restapi issues them with
``shared.pushticket.issue``. The expiry in the claims is checked here as well as by the key's TTL.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import ClientSession, ClientTimeout

from shared import pushticket
from shared.errors import Unauthorized
from shared.redis import Redis
from shared.tokens import KeyRing, Verifier

log = logging.getLogger(__name__)



@dataclass(frozen=True, slots=True)
class Identity:
    """The authenticated user of a socket."""

    user_id: int
    role: str
    agent_id: int | None


def _identity(claims: dict[str, Any]) -> Identity:
    try:
        user_id = int(claims["sub"])
    except (KeyError, TypeError, ValueError):
        raise Unauthorized("Credentials name no user", code="invalid_token") from None
    agent = claims.get("agent_id")
    return Identity(user_id, str(claims.get("role", "player")), agent if isinstance(agent, int) else None)


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

    def __init__(self, redis: Redis, verifier: Verifier | None) -> None:
        self.redis = redis
        self.verifier = verifier

    async def authenticate(self, token: str) -> Identity:
        if token.count(".") == 2:  # compact JWS: header.payload.signature
            if self.verifier is None:
                raise Unauthorized("This node accepts push tickets only", code="invalid_token")
            return _identity(self.verifier.verify(token))
        claims = await redeem_ticket(self.redis, token)
        if claims is None:
            raise Unauthorized("Unknown, used or expired push ticket", code="invalid_ticket")
        return _identity(claims)


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
