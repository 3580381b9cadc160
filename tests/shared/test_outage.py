"""Which failures are outages of PostgreSQL or Redis (a retryable 503) and which stay a 500."""

from __future__ import annotations

import asyncio

import aiopg
import psycopg2
import pytest
import redis.exceptions as rexc

from shared.outage import outage_error


async def test_aiopg_giving_up_on_a_silent_server_is_database_unavailable() -> None:
    held: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # accept, never answer: a server that vanished without closing

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(TimeoutError) as info:
            await aiopg.connect(f"postgresql://nobody@127.0.0.1:{port}/none", timeout=0.2)
        err = outage_error(info.value)
        assert err is not None and err.code == "database_unavailable" and err.status == 503
        assert err.headers["Retry-After"] == "2"
    finally:
        for w in held:
            w.close()
        server.close()
        await server.wait_closed()


def test_only_connection_level_failures_are_outages() -> None:
    assert outage_error(TimeoutError()) is None  # not from aiopg: a bug to look at
    assert outage_error(RuntimeError("handler is closed")) is None
    assert outage_error(psycopg2.OperationalError("server closed the connection unexpectedly")) is not None
    assert outage_error(rexc.ConnectionError("gone")).code == "redis_unavailable"  # type: ignore[union-attr]
    assert outage_error(ValueError("bug")) is None
    assert outage_error(psycopg2.ProgrammingError("bad SQL")) is None
