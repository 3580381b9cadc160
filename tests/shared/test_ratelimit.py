"""The Redis sliding-window limiter: exact under concurrency, Retry-After, refunds, window expiry."""

from __future__ import annotations

import asyncio

import pytest

from shared import ratelimit
from shared.errors import RateLimited
from shared.redis import create_client
from tests.helpers import wait_for


async def test_concurrent_hits_admit_exactly_the_limit(redis_url: str) -> None:
    redis = create_client(redis_url)
    try:
        limit = ratelimit.Limit("t", 10, 60)
        decisions = await asyncio.gather(*(ratelimit.hit(redis, limit, "ip1") for _ in range(50)))
        assert sum(d.allowed for d in decisions) == 10
        refused = [d for d in decisions if not d.allowed]
        assert all(1 <= d.retry_after <= 60 for d in refused)
        assert (await ratelimit.hit(redis, limit, "ip2")).allowed  # another caller has its own window
        with pytest.raises(RateLimited) as err:
            await ratelimit.enforce(redis, limit, "ip1")
        assert err.value.headers["Retry-After"] == str(err.value.retry_after)
    finally:
        await redis.aclose()


async def test_refund_gives_the_slot_back_and_old_hits_leave_the_window(redis_url: str) -> None:
    redis = create_client(redis_url)
    try:
        limit = ratelimit.Limit("t", 2, 60)
        first = await ratelimit.hit(redis, limit, "a")
        await ratelimit.hit(redis, limit, "a")
        assert not (await ratelimit.hit(redis, limit, "a")).allowed
        await ratelimit.refund(redis, limit, "a", first)
        assert (await ratelimit.hit(redis, limit, "a")).allowed

        short = ratelimit.Limit("short", 1, 0.2)
        assert (await ratelimit.hit(redis, short, "b")).allowed
        assert not (await ratelimit.hit(redis, short, "b")).allowed

        async def admitted() -> bool:
            return (await ratelimit.hit(redis, short, "b")).allowed

        await wait_for(admitted, what="the window to slide past the first hit")
    finally:
        await redis.aclose()


async def test_hit_unless_refuses_without_counting_while_the_blocker_exists(redis_url: str) -> None:
    r = create_client(redis_url)
    try:
        limit = ratelimit.Limit("t", 2, 60)
        await r.script_flush()  # the first call finds no cached script and sends it
        first = await ratelimit.hit_unless(r, limit, "u", "deny:x")
        assert first is not None and first.allowed and first.remaining == 1
        await r.set("deny:x", b"1")
        assert await ratelimit.hit_unless(r, limit, "u", "deny:x") is None
        await r.delete("deny:x")
        second = await ratelimit.hit_unless(r, limit, "u", "deny:x")  # the refused call counted nothing
        assert second is not None and second.allowed and second.remaining == 0
        third = await ratelimit.hit_unless(r, limit, "u", "deny:x")
        assert third is not None and not third.allowed and third.retry_after_ms > 0
    finally:
        await r.aclose()
