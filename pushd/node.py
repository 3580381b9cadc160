"""One pushd node: its hub, reader, recovery and auth; its heartbeat in ``pushd:nodes``; its drain."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
from collections.abc import AsyncIterator
from importlib import metadata

import aiopg
import orjson
import redis.asyncio as aioredis
from aiohttp import web
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from pushd import metrics
from pushd import protocol as p
from pushd.auth import Authenticator, load_verifier
from pushd.config import PushSettings
from pushd.hub import Hub
from pushd.keys import NODE, REDIS, SETTINGS
from pushd.reader import REDIS_DOWN, Reader
from pushd.recovery import Recovery
from shared import streams
from shared.db import create_pool
from shared.redis import Redis, pool_from_url
from shared.tokens import Verifier

log = logging.getLogger(__name__)

try:
    VERSION = metadata.version("wagerbabe")
except metadata.PackageNotFoundError:  # running from a plain checkout
    VERSION = "0+unknown"


class Node:
    """Everything one pushd process shares between its sockets."""

    def __init__(self, settings: PushSettings, redis: Redis, verifier: Verifier | None,
                 reader_redis: Redis | None = None, pg: aiopg.Pool | None = None) -> None:
        self.settings = settings
        self.redis = redis
        self.node_id = settings.node_id or f"{socket.gethostname()}-{os.getpid()}"
        self.hub = Hub(settings.max_buffer_bytes, max_pending=max(10_000, settings.replay_limit * 4))
        self.reader = Reader(reader_redis or redis, self.hub, block_ms=settings.read_block_ms,
                             count=settings.read_count, rescan=settings.rescan_interval)
        self.recovery = Recovery(redis, self.hub, self.reader, settings.replay_limit)
        self.auth = Authenticator(redis, verifier, pg)
        self.draining = False

    def describe(self) -> dict[str, object]:
        """This node's line in ``pushd:nodes``."""
        now = time.time()
        return {
            "node": self.node_id,
            "pid": os.getpid(),
            "version": VERSION,
            "connections": len(self.hub.conns),
            "users": len({c.user_id for c in self.hub.conns}),
            "topics": len(self.hub.live) + len(self.hub.pending),
            "draining": self.draining,
            "reader_connected": self.reader.connected,
            "ts": round(now, 3),
            "expires": round(now + 3 * self.settings.heartbeat_interval, 3),
        }

    async def heartbeat(self, stop: asyncio.Event) -> None:
        """Refresh this node's entry every interval and prune entries whose heartbeat expired."""
        while not stop.is_set():
            with contextlib.suppress(*REDIS_DOWN):
                await self.redis.hset(streams.PUSHD_NODES, self.node_id, orjson.dumps(self.describe()))
                stale = []
                for node, raw in (await self.redis.hgetall(streams.PUSHD_NODES)).items():
                    try:
                        expired = float(orjson.loads(raw).get("expires", 0)) < time.time()
                    except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
                        expired = True
                    if expired:
                        stale.append(node)
                if stale:
                    await self.redis.hdel(streams.PUSHD_NODES, *stale)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.heartbeat_interval)

    async def ping_wheel(self, stop: asyncio.Event) -> None:
        """Ping every socket once per ``ping_interval``, a sixteenth of them at a time, and close (4008)
        one whose pong has not come back half an interval later: it is not reading. One loop for
        the whole node instead of a heartbeat timer per socket."""
        ticks = 16
        step = self.settings.ping_interval / ticks
        ping = p.ws_frame(b"", 0x9)
        tick = 0
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), step)
            tick += 1
            due, check = tick % ticks, (tick - ticks // 2) % ticks
            for conn in list(self.hub.conns):
                if conn.slot == check and conn.pinged:
                    metrics.SLOW_CLOSES.inc()
                    metrics.CLOSES.labels(str(p.CLOSE_SLOW)).inc()
                    self.hub.kick(conn, p.CLOSE_SLOW, "no pong: not reading", grace=1.0)
                elif conn.slot == due and not conn.closed:
                    conn.pinged = True
                    with contextlib.suppress(RuntimeError, ConnectionError):
                        conn.transport.write(ping)

    async def drain(self) -> None:
        """Tell every client to reconnect after a jittered delay spread over the window, then close 1012."""
        self.draining = True
        window_ms = int(self.settings.drain_window * 1000)
        conns = list(self.hub.conns)
        log.info("draining %d sockets over %d ms", len(conns), window_ms)
        for conn in conns:
            self.hub.send(conn, p.reconnect_frame(random.randint(0, window_ms)))
            metrics.CLOSES.labels(str(p.CLOSE_RESTART)).inc()
            self.hub.kick(conn, p.CLOSE_RESTART, "server restart: reconnect")
        await self.hub.wait_closed(timeout=5.0)


def redis_pool(url: str, max_connections: int) -> aioredis.ConnectionPool:
    """A bounded, blocking pool (a storm waits for a connection instead of failing at once) whose
    commands retry twice on a dropped connection, so a restarted Redis is transparent to callers
    (``redis+sentinel://`` URLs follow a failover to the promoted primary)."""
    return pool_from_url(url, max_connections, 5, socket_connect_timeout=2.0, health_check_interval=15,
                         retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 2))


async def node_ctx(app: web.Application) -> AsyncIterator[None]:
    """Open the node (keys, reader offsets), run its reader and heartbeat, and stop them on shutdown."""
    settings = app[SETTINGS]
    verifier = await load_verifier(settings.keys_dir, settings.jwks_url)
    # The reader has connections of its own: a reconnect storm queueing on the shared pool must not
    # delay the live fan-out of everyone else.
    reader_pool = redis_pool(settings.redis_url, 4)
    reader_redis = aioredis.Redis(connection_pool=reader_pool)
    # PostgreSQL answers "is this token revoked?" when Redis does not know (it lost its data). Opened
    # lazily (min 0): a node starts, and serves sockets already checked, while PostgreSQL is down.
    pg = await create_pool(settings.database_url, 0, settings.pg_pool_max) if settings.database_url else None
    if pg is None:
        log.warning("no DATABASE_URL: revoked tokens are checked in Redis only")
    node = Node(settings, app[REDIS], verifier, reader_redis, pg)
    app[NODE] = node
    try:
        await node.reader.start()
    except REDIS_DOWN:
        log.warning("Redis unreachable at start; the reader keeps retrying")
    stop = asyncio.Event()
    tasks = [asyncio.create_task(node.reader.run(stop), name="pushd-reader"),
             asyncio.create_task(node.heartbeat(stop), name="pushd-heartbeat"),
             asyncio.create_task(node.ping_wheel(stop), name="pushd-ping-wheel")]
    try:
        yield
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(*REDIS_DOWN):
            await node.redis.hdel(streams.PUSHD_NODES, node.node_id)
        await reader_redis.aclose()
        await reader_pool.disconnect()
        if pg is not None:
            pg.close()
            await pg.wait_closed()


async def drain_on_shutdown(app: web.Application) -> None:
    """``on_shutdown``: the listening socket is already closed; drain the open ones."""
    node = app.get(NODE)
    if node is not None:
        await node.drain()
