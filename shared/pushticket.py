"""Push tickets: short-lived single-use tickets that pushd redeems instead of an access token.

A browser asks restapi (``POST /api/v1/auth/push-ticket``) for a ticket and says hello to pushd
with it, so its access token never travels in a URL or sits in a WebSocket log. restapi calls
``issue``; pushd calls ``redeem``, which claims the ticket atomically (one script) for one random
redeem id, so two nodes racing on one ticket cannot both accept it, while the *same* redeem sent
again (the Redis client retries a command whose reply a dropped connection lost) gets its claims
again instead of "used". Redis keeps only a hash of the ticket; a claimed one lingers, marked, until
its TTL.

    ticket = await pushticket.issue(redis, user_id=7, role="player", agent_id=2, ttl=30)
    claims = await pushticket.redeem(redis, ticket)   # {"sub": "7", "role": ..., ...} or None
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

import orjson

from shared.redis import Redis

PREFIX = "pt_"


def key(ticket: str) -> str:
    """The Redis key of a ticket (its sha256, so a Redis dump reveals no usable ticket)."""
    return "pushticket:" + hashlib.sha256(ticket.encode()).hexdigest()


async def issue(redis: Redis, *, user_id: int, role: str, agent_id: int | None, ttl: int = 30,
                jti: str | None = None, token_exp: int | None = None) -> str:
    """Store a new ticket for the user for ``ttl`` seconds and return it (``pt_`` + 32 random bytes).

    ``jti`` and ``token_exp`` name the access token the ticket was bought with and when it expires:
    pushd refuses a ticket whose token was revoked and closes the socket when the token expires.
    """
    ticket = PREFIX + secrets.token_urlsafe(32)
    now = int(time.time())
    claims = {"sub": str(user_id), "role": role, "agent_id": agent_id, "iat": now, "exp": now + ttl,
              "jti": jti, "token_exp": token_exp, "typ": "push_ticket"}
    await redis.set(key(ticket), orjson.dumps(claims), ex=ttl)
    return ticket


# KEYS[1] the ticket, ARGV[1] the redeem id. A fresh ticket is marked "used:<id>:" + claims (TTL
# kept) and its claims returned; a ticket marked by this same id returns its claims again; anything
# else (unknown, expired, claimed by another redeem) returns nil.
_REDEEM = """
local v = redis.call('GET', KEYS[1])
if not v then return false end
local mark = 'used:' .. ARGV[1] .. ':'
if string.sub(v, 1, 5) == 'used:' then
  if string.sub(v, 1, #mark) == mark then return string.sub(v, #mark + 1) end
  return false
end
redis.call('SET', KEYS[1], mark .. v, 'KEEPTTL')
return v
"""


async def redeem(redis: Redis, ticket: str) -> dict[str, Any] | None:
    """The ticket's claims, claiming it atomically; None when unknown, used or expired.

    A plain GETDEL retried after a lost reply (the first one ran) answered "used": that was the
    soak's handful of ``invalid_ticket`` hellos. The redeem id makes the retry see its own claim."""
    if not isinstance(ticket, str) or not ticket.startswith(PREFIX) or len(ticket) > 100:
        return None
    raw = await redis.eval(_REDEEM, 1, key(ticket), secrets.token_hex(8))
    if raw is None:
        return None
    claims: dict[str, Any] = orjson.loads(raw)
    return claims
