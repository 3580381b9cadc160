"""Sliding-window rate limits in Redis, atomic in one Lua script (reusable by every service).

A window is a sorted set of request stamps (``rl:{name}:{who}``) scored by Redis's own clock, so
several restapi nodes share one limit without trusting their clocks. ``hit`` admits a request and
records it, or refuses it and says how long until the oldest stamp leaves the window. ``refund``
removes one admitted stamp (login counts failed attempts: a success gives its slot back).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from shared.errors import RateLimited
from shared.redis import Redis

# KEYS[1] window key; ARGV: limit, window_ms, member. Returns {allowed, remaining, retry_after_ms}.
_HIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, limit - count - 1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local retry = window
if oldest[2] then retry = tonumber(oldest[2]) + window - now end
if retry < 1 then retry = 1 end
return {0, 0, retry}
"""


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one ``hit``: ``member`` identifies the stamp for ``refund``."""

    allowed: bool
    remaining: int
    retry_after_ms: int
    member: str

    @property
    def retry_after(self) -> int:
        """Whole seconds a client should wait (Retry-After), at least 1."""
        return max(1, -(-self.retry_after_ms // 1000))


@dataclass(frozen=True, slots=True)
class Limit:
    """``limit`` requests per ``window`` seconds for each ``who`` under ``name``."""

    name: str
    limit: int
    window: float

    def key(self, who: str) -> str:
        return f"rl:{self.name}:{who}"


async def hit(redis: Redis, limit: Limit, who: str) -> Decision:
    """Count one request of ``who`` against ``limit`` (atomic; refused requests are not recorded)."""
    member = secrets.token_hex(8)
    result = await redis.eval(_HIT, 1, limit.key(who), limit.limit, int(limit.window * 1000), member)
    return decision(result, member)


def queue_hit(pipe: Any, limit: Limit, who: str) -> str:
    """Queue a ``hit`` on a pipeline (to share a round trip); read it back with ``decision``."""
    member = secrets.token_hex(8)
    pipe.eval(_HIT, 1, limit.key(who), limit.limit, int(limit.window * 1000), member)
    return member


def decision(result: Any, member: str) -> Decision:
    """The ``Decision`` of a script result ``[allowed, remaining, retry_after_ms]``."""
    allowed, remaining, retry = result
    return Decision(bool(allowed), int(remaining), int(retry), member)


async def enforce(redis: Redis, limit: Limit, who: str, message: str = "Too many requests") -> Decision:
    """``hit``, raising ``RateLimited`` (429 with Retry-After) when the request is refused."""
    decision = await hit(redis, limit, who)
    if not decision.allowed:
        raise RateLimited(message, retry_after=decision.retry_after,
                          details={"limit": limit.limit, "window_seconds": limit.window})
    return decision


async def refund(redis: Redis, limit: Limit, who: str, decision: Decision) -> None:
    """Give back the slot an admitted ``decision`` took."""
    if decision.allowed:
        await redis.zrem(limit.key(who), decision.member)
