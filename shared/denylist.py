"""Denylisted access tokens: a revoked token's ``jti`` is kept in Redis until the token expires.

restapi's ``principal()`` refuses a denylisted token; pushd can call ``is_denied`` the same way
when a client says hello with an access JWT.
"""

from __future__ import annotations

import time

from redis.exceptions import RedisError

from shared.errors import Unavailable
from shared.redis import Redis


def key(jti: str) -> str:
    """The Redis key that marks ``jti`` as revoked."""
    return f"deny:jti:{jti}"


async def deny(redis: Redis, jti: str, exp: int) -> None:
    """Denylist ``jti`` until ``exp`` (unix seconds); an already-expired token needs no entry."""
    ttl = int(exp - time.time()) + 1
    if ttl > 0:
        try:
            await redis.set(key(jti), b"1", ex=ttl)
        except RedisError:  # a logout that cannot denylist must say so, not pretend it worked
            raise Unavailable("Cannot log out right now; retry shortly", code="redis_unavailable") from None


async def is_denied(redis: Redis, jti: str) -> bool:
    """True when ``jti`` was revoked and has not expired yet."""
    return bool(await redis.exists(key(jti)))
