"""Revoked access tokens: PostgreSQL holds the record, Redis caches both answers.

A token is revoked when its session is (``auth_sessions.revoked_at``, found through
``session_access_tokens``) or when its ``jti`` is in ``revoked_access_tokens`` (logout). Redis keeps
``deny:jti:{jti}`` (revoked, until the token expires) and ``live:jti:{jti}`` (looked up, not
revoked, for ``LIVE_TTL`` seconds). A token with neither key is looked up in PostgreSQL and the
answer cached, so a Redis that lost its data (restart, FLUSHALL, failover) brings no revoked token
back. restapi's ``principal()`` and pushd's hello use this; the deny key is read first, so a
revocation racing a lookup still wins.
"""

from __future__ import annotations

import time
from typing import Any

import aiopg
from redis.exceptions import RedisError

from shared.errors import Unavailable
from shared.redis import Redis

# A "not revoked" answer is trusted this long. It matters only when Redis loses a deny key but keeps
# the live key (a failover to a lagging replica); FLUSHALL and restarts lose both.
LIVE_TTL = 300

REVOKED = """
SELECT EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = %(jti)s)
    OR EXISTS (SELECT 1 FROM session_access_tokens t JOIN auth_sessions s ON s.id = t.session_id
               WHERE t.jti = %(jti)s AND s.revoked_at IS NOT NULL)
"""
RECORD = """
INSERT INTO revoked_access_tokens (jti, expires_at) VALUES (%(jti)s, to_timestamp(%(exp)s))
ON CONFLICT (jti) DO NOTHING
"""


def key(jti: str) -> str:
    """The Redis key that marks ``jti`` as revoked."""
    return f"deny:jti:{jti}"


def live_key(jti: str) -> str:
    """The Redis key that says ``jti`` was looked up in PostgreSQL and is not revoked."""
    return f"live:jti:{jti}"


async def deny(redis: Redis, jti: str, exp: int) -> None:
    """Cache ``jti`` as revoked until ``exp`` (unix seconds); an already-expired token needs no entry.

    The caller has recorded the revocation in PostgreSQL first (``record`` or a revoked session).
    """
    ttl = int(exp - time.time()) + 1
    if ttl > 0:
        try:
            pipe = redis.pipeline(transaction=False)
            pipe.set(key(jti), b"1", ex=ttl)
            pipe.delete(live_key(jti))
            await pipe.execute()
        except RedisError:  # a logout that cannot denylist must say so, not pretend it worked
            raise Unavailable("Cannot log out right now; retry shortly", code="redis_unavailable") from None


async def record(cur: Any, jti: str, exp: int) -> None:
    """Record in PostgreSQL (on the caller's cursor) that the access token ``jti`` is revoked."""
    await cur.execute(RECORD, {"jti": jti, "exp": exp})


async def is_denied(redis: Redis, jti: str) -> bool:
    """True when Redis holds ``jti`` as revoked (the cache only; see ``is_revoked``)."""
    return bool(await redis.exists(key(jti)))


async def revoked_in_pg(pool: aiopg.Pool, jti: str) -> bool:
    """The record: is ``jti`` revoked? (One indexed query.)"""
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(REVOKED, {"jti": jti})
        row = await cur.fetchone()
    return bool(row and row[0])


async def remember(redis: Redis, jti: str, exp: float, revoked: bool) -> None:
    """Cache a PostgreSQL answer; a failed write only costs another lookup next time."""
    ttl = int(exp - time.time()) + 1
    if ttl <= 0:
        return
    try:
        if revoked:
            await redis.set(key(jti), b"1", ex=ttl)
        else:
            await redis.set(live_key(jti), b"1", ex=min(ttl, LIVE_TTL))
    except RedisError:
        pass


async def is_revoked(redis: Redis, pool: aiopg.Pool | None, jti: str, exp: float) -> bool:
    """True when ``jti`` is revoked: from the Redis cache, else from PostgreSQL (then cached).

    Without a pool (a process started with no DATABASE_URL, only in tests) the cache is all there is.
    Redis and PostgreSQL errors propagate: the caller fails closed.
    """
    pipe = redis.pipeline(transaction=False)
    pipe.exists(key(jti))
    pipe.exists(live_key(jti))
    denied, live = await pipe.execute()
    if denied:
        return True
    if live or pool is None:
        return False
    revoked = await revoked_in_pg(pool, jti)
    await remember(redis, jti, exp, revoked)
    return revoked
