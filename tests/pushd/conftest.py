"""Fixtures for pushd: real nodes on real ports, real Redis, and clients that record every frame."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
import redis.asyncio as aioredis
from aiohttp import web

from pushd.app import create_app
from pushd.config import PushSettings
from pushd.keys import SETTINGS
from shared import pushticket, streams
from shared.config import load
from tests.helpers import scaled, wait_for
from tests.pushd.helpers import PushTestServer

# XADD one odds entry and apply it to the snapshot in one atomic step, as ingest does (MULTI);
# _epoch is set when the snapshot is first created.
PUBLISH = """
local id
if ARGV[1] == '0' then
  id = redis.call('XADD', KEYS[1], '*', 'v', '1', 'ts', ARGV[2], 'trace', '', 'changes', ARGV[3])
else
  id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], '*', 'v', '1', 'ts', ARGV[2], 'trace', '',
                  'changes', ARGV[3])
end
if redis.call('HEXISTS', KEYS[2], '_epoch') == 0 then redis.call('HSET', KEYS[2], '_epoch', ARGV[4]) end
for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[2], '_offset', id)
return id
"""

_n = itertools.count(1)


def change(event: str, price: int, book: str = "dk") -> dict[str, Any]:
    """One price change in the shared shape."""
    return {"event": event, "book": book, "market": "h2h", "outcome": "home", "price": price, "point": None,
            "t": int(time.time() * 1000)}


async def publish(r: aioredis.Redis, sport: str, changes: list[dict[str, Any]], *, maxlen: int = 0,
                  epoch: str = "ep1") -> str:
    """Write one entry to ``odds:{sport}`` and its events to ``snap:{sport}``; returns the entry id."""
    args: list[Any] = [maxlen, int(time.time() * 1000), orjson.dumps(changes), epoch]
    for ch in changes:
        args += [ch["event"], orjson.dumps({"id": ch["event"], "last": ch})]
    out = await r.eval(PUBLISH, 2, streams.odds_stream(sport), streams.snap_key(sport), *args)
    return out.decode() if isinstance(out, bytes) else str(out)


async def issue_ticket(r: aioredis.Redis, user_id: int, ttl: int = 30) -> str:
    """A push ticket issued exactly as restapi's ``POST auth/push-ticket`` does (single use)."""
    return await pushticket.issue(r, user_id=user_id, role="player", agent_id=2, ttl=max(ttl, 1))


class Client:
    """A real WebSocket client that records every frame it receives."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self.close_code: int | None = None
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for msg in self.ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                self.frames.append(orjson.loads(msg.data))
        self.close_code = self.ws.close_code

    async def send(self, doc: dict[str, Any] | str) -> None:
        await self.ws.send_str(doc if isinstance(doc, str) else orjson.dumps(doc).decode())

    def ops(self, op: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f["op"] == op]

    def offsets(self, topic: str) -> list[str]:
        """Offsets of the odds frames of ``topic``, in arrival order."""
        return [f["offset"] for f in self.frames if f["op"] == "odds" and f["topic"] == topic]

    def has(self, op: str, **match: Any) -> bool:
        return any(f["op"] == op and all(f.get(k) == v for k, v in match.items()) for f in self.frames)

    async def wait(self, op: str, what: str = "", timeout: float = 5.0, **match: Any) -> dict[str, Any]:
        await wait_for(lambda: self.has(op, **match), timeout, what or f"{op} {match}")
        return next(f for f in self.frames if f["op"] == op and all(f.get(k) == v for k, v in match.items()))

    async def closed(self, timeout: float = 10.0) -> int | None:
        await asyncio.wait_for(self.task, scaled(timeout))
        return self.close_code

    async def sub(self, topics: list[str], since: dict[str, Any] | None = None, req: int | None = None
                  ) -> dict[str, Any]:
        req = req or next(_n)
        await self.send({"op": "sub", "id": req, "topics": topics, **({"since": since} if since else {})})
        return await self.wait("subscribed", id=req)

    async def close(self) -> None:
        await self.ws.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.task, scaled(5))


Connect = Callable[..., Awaitable[Client]]
StartNode = Callable[..., Awaitable[Any]]


@pytest.fixture
def push_env(redis_url: str, keys_dir: Path) -> dict[str, str]:
    return {"REDIS_URL": redis_url, "AUTH_KEYS_DIR": str(keys_dir), "LOG_LEVEL": "INFO"}


@pytest.fixture
async def rds(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def start_node(aiohttp_client: Any, push_env: dict[str, str]) -> StartNode:
    """Start a pushd node on a free port (settings overridable); returns the TestServer."""
    names = itertools.count(1)

    async def start(env: dict[str, str] | None = None, **overrides: Any) -> Any:
        overrides.setdefault("node_id", f"node-{next(names)}")
        overrides.setdefault("read_block_ms", 100)
        overrides.setdefault("rescan_interval", 0.3)
        overrides.setdefault("heartbeat_interval", 0.3)
        settings = load(PushSettings, {**push_env, **(env or {})}, port=0, **overrides)
        app: web.Application = create_app(settings)
        return (await aiohttp_client(PushTestServer(app))).server

    return start


@pytest.fixture
async def connect(push_env: dict[str, str]) -> AsyncIterator[Connect]:
    """Open a client to a node and say hello (with a fresh push ticket for ``user`` unless ``token``)."""
    session = aiohttp.ClientSession()
    rclients: dict[str, aioredis.Redis] = {}
    clients: list[Client] = []

    async def open_client(server: Any, user: int = 1, token: str | None = None, hello: bool = True) -> Client:
        ws = await session.ws_connect(server.make_url("/ws"), autoping=True)
        client = Client(ws)
        clients.append(client)
        if hello:
            if token is None:
                redis_url = _redis_url_of(server)
                r = rclients.get(redis_url) or aioredis.Redis.from_url(redis_url)
                rclients[redis_url] = r
                token = await issue_ticket(r, user)
            await client.send({"op": "hello", "token": token})
            await client.wait("welcome")
        return client

    yield open_client
    for c in clients:
        with contextlib.suppress(Exception):
            await c.close()
    await session.close()
    for r in rclients.values():
        await r.aclose()


def _redis_url_of(server: Any) -> str:
    return server.app[SETTINGS].redis_url
