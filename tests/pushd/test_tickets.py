"""A push ticket is single use, yet a redeem the Redis client retries after losing its reply still
succeeds: the cause of the soak's rare ``invalid_ticket`` hellos."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from pushd.node import redis_pool
from shared import pushticket
from tests.proxy import CutProxy


async def test_a_redeem_retried_after_its_reply_was_lost_still_gets_the_claims(rds: aioredis.Redis,
                                                                               redis_url: str) -> None:
    proxy = CutProxy.for_url(redis_url)
    await proxy.start()
    node_redis = aioredis.Redis(connection_pool=redis_pool(proxy.url(redis_url), 4))  # pushd's own client
    try:
        await node_redis.ping()
        ticket = await pushticket.issue(rds, user_id=7, role="player", agent_id=2)
        proxy.drop_next_reply = True  # the claim runs in Redis, the connection drops before the answer
        claims = await pushticket.redeem(node_redis, ticket)
        assert claims is not None and claims["sub"] == "7"
        assert not proxy.drop_next_reply  # the reply really was lost and the command retried
        assert await pushticket.redeem(rds, ticket) is None  # still single use for anyone else
    finally:
        await node_redis.aclose()
        await node_redis.connection_pool.disconnect()
        await proxy.close()


async def test_concurrent_redeems_of_one_ticket_accept_exactly_one(rds: aioredis.Redis) -> None:
    ticket = await pushticket.issue(rds, user_id=3, role="player", agent_id=2)
    results = await asyncio.gather(*(pushticket.redeem(rds, ticket) for _ in range(10)))
    assert sum(r is not None for r in results) == 1
