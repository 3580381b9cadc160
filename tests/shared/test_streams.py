"""The stream schema round-trips through real Redis and carries the current trace."""

from __future__ import annotations

import redis.asyncio as aioredis

from shared import streams, tracing

TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


async def test_entries_round_trip_through_redis_with_trace(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    token = tracing.set_current(tracing.continue_trace(TRACE))
    try:
        change = streams.Change("e1", "draftkings", "h2h", "Boston Celtics", -120, None, 1)
        await client.xadd(streams.odds_stream("basketball_nba"), streams.encode_odds([change], ts=5))
        await client.xadd(streams.NOTIFY, streams.encode_notify(7, "bet.accepted", {"bet": 3}))
        await client.xadd(streams.RESULTS, streams.encode_result("e1", "basketball_nba", "final", 101, 99))
    finally:
        tracing.reset(token)
    (_, odds), = await client.xrange("odds:basketball_nba")
    (_, note), = await client.xrange("notify")
    (_, result), = await client.xrange("results")
    await client.aclose()
    decoded = streams.decode_odds(odds)
    assert decoded["ts"] == 5 and decoded["changes"] == [
        {"event": "e1", "book": "draftkings", "market": "h2h", "outcome": "Boston Celtics", "price": -120,
         "point": None, "t": 1}]
    assert streams.decode_notify(note)["data"] == {"bet": 3} and streams.decode_notify(note)["user"] == 7
    assert streams.decode_result(result) | {"ts": 0, "trace": ""} == {
        "v": 1, "ts": 0, "trace": "", "event": "e1", "sport": "basketball_nba", "status": "final",
        "home": 101, "away": 99}
    for fields in (odds, note, result):
        trace = fields[b"trace"].decode()
        assert trace.split("-")[1] == "4bf92f3577b34da6a3ce929d0e0e4736"
