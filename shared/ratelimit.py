"""Rate limits in Redis (GCRA, a token bucket kept as one timestamp), atomic in one Lua script.

``limit`` requests per ``window`` seconds, with bursts up to ``limit``: each caller has one key
(``rl:{name}:{who}``) holding its theoretical arrival time, so memory is O(1) per caller however
high the limit (a sliding log would keep every request). The script reads Redis's own clock, so
several restapi nodes share one limit without trusting their clocks. ``hit`` admits and records a
request or refuses it with the wait until the next one is allowed; ``refund`` gives one admitted
request back (login counts failed attempts: a success returns its slot). Reusable by any service.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from redis.exceptions import NoScriptError, RedisError

from shared.errors import RateLimited, Unavailable
from shared.redis import Redis

# Integer microseconds throughout: Lua numbers are doubles, exact below 2^53 (year 2255 in us).
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
"""

# KEYS[1]; ARGV: interval_us (window / limit), window_us. Returns {allowed, remaining, retry_after_ms}.
_HIT = _NOW + """
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - window
if now < allow_at then
  return {0, 0, math.ceil((allow_at - now) / 1000)}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return {1, math.floor((window - (new_tat - now)) / interval), 0}
"""

# KEYS[1] as _HIT, KEYS[2] a key whose existence refuses the request outright ({-1, 0, 0}, nothing counted);
# an optional KEYS[3] that must exist, else {-2, 0, 0} and nothing counted (the caller checks elsewhere).
_HIT_UNLESS = """if redis.call('EXISTS', KEYS[2]) == 1 then return {-1, 0, 0} end
if #KEYS > 2 and redis.call('EXISTS', KEYS[3]) == 0 then return {-2, 0, 0} end
""" + _HIT
_HIT_UNLESS_SHA = hashlib.sha1(_HIT_UNLESS.encode()).hexdigest()
_REFUND = _NOW + """
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil then return 0 end
local new_tat = tat - interval
if new_tat <= now then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
end
return 1
"""


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one ``hit``."""

    allowed: bool
    remaining: int
    retry_after_ms: int

    @property
    def retry_after(self) -> int:
        """Whole seconds a client should wait (Retry-After), at least 1."""
        return max(1, -(-self.retry_after_ms // 1000))


# What ``hit_unless`` answers when its ``known`` key is missing (compare with ``is``).
UNKNOWN = Decision(False, 0, 0)


@dataclass(frozen=True, slots=True)
class Limit:
    """``limit`` requests per ``window`` seconds for each ``who`` under ``name``."""

    name: str
    limit: int
    window: float

    def key(self, who: str) -> str:
        return f"rl:{self.name}:{who}"

    def args(self) -> tuple[int, int]:
        """(interval_us, window_us) as the scripts take them."""
        window = int(self.window * 1_000_000)
        return max(1, window // self.limit), window


async def hit(redis: Redis, limit: Limit, who: str) -> Decision:
    """Count one request of ``who`` against ``limit`` (atomic; refused requests are not recorded).

    Fails closed: with Redis unreachable the request is refused with 503, not let through unlimited.
    """
    try:
        return decision(await redis.eval(_HIT, 1, limit.key(who), *limit.args()))
    except RedisError:
        raise Unavailable("Rate limits cannot be checked right now; retry shortly", code="redis_unavailable") from None


async def hit_unless(redis: Redis, limit: Limit, who: str, blocker: str, known: str | None = None
                     ) -> Decision | None:
    """``hit``, unless the key ``blocker`` exists (then None and nothing is counted), in one command.

    With ``known``, a missing ``known`` key answers ``UNKNOWN`` and counts nothing: the caller finds
    the answer elsewhere, caches it under ``known`` and calls again. restapi checks the access token's
    revocation this way on every request: one EVALSHA (the script is sent once per Redis server)
    instead of a pipeline. Redis errors propagate; the caller decides how to fail.
    """
    keys = (limit.key(who), blocker) if known is None else (limit.key(who), blocker, known)
    try:
        result = await redis.evalsha(_HIT_UNLESS_SHA, len(keys), *keys, *limit.args())
    except NoScriptError:  # first use on this server, or after SCRIPT FLUSH / a restart
        result = await redis.eval(_HIT_UNLESS, len(keys), *keys, *limit.args())
    status = int(result[0])
    return None if status == -1 else UNKNOWN if status == -2 else decision(result)


def queue_hit(pipe: Any, limit: Limit, who: str) -> None:
    """Queue a ``hit`` on a pipeline (to share a round trip); read its result with ``decision``."""
    pipe.eval(_HIT, 1, limit.key(who), *limit.args())


def decision(result: Any) -> Decision:
    """The ``Decision`` of a script result ``[allowed, remaining, retry_after_ms]``."""
    allowed, remaining, retry = result
    return Decision(bool(allowed), int(remaining), int(retry))


async def enforce(redis: Redis, limit: Limit, who: str, message: str = "Too many requests") -> Decision:
    """``hit``, raising ``RateLimited`` (429 with Retry-After) when the request is refused."""
    result = await hit(redis, limit, who)
    if not result.allowed:
        raise RateLimited(message, retry_after=result.retry_after,
                          details={"limit": limit.limit, "window_seconds": limit.window})
    return result


async def refund(redis: Redis, limit: Limit, who: str, admitted: Decision) -> None:
    """Give back the slot an admitted request took."""
    if admitted.allowed:
        await redis.eval(_REFUND, 1, limit.key(who), *limit.args())
