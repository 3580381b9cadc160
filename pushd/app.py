"""pushd's app factory: the WebSocket endpoint, health (with the reader's state) and metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from aiohttp import web

from pushd.config import PushSettings
from pushd.keys import NODE, REDIS, SETTINGS
from pushd.node import drain_on_shutdown, node_ctx, redis_pool
from pushd.session import ws_refused
from shared.connguard import body_timeout_middleware
from shared.health import redis_check
from shared.web import SERVICE, add_health_routes, harden_responses, standard_middlewares


async def _reader_check(app: web.Application) -> None:
    node = app.get(NODE)
    if node is None or not node.reader.connected:
        raise ConnectionError("degraded: stream reader is reconnecting to Redis (sockets stay open)")


async def _redis_ctx(app: web.Application) -> AsyncIterator[None]:
    s = app[SETTINGS]
    pool = redis_pool(s.redis_url, s.redis_max_connections)
    client = aioredis.Redis(connection_pool=pool)
    app[REDIS] = client
    try:
        yield
    finally:
        await client.aclose()
        await pool.disconnect()


async def _one_request_per_connection(request: web.Request, response: web.StreamResponse) -> None:
    """Close the connection after each plain HTTP answer: ``pushd.front`` tells a socket from a request
    when a connection opens, so a client that reused a kept-alive connection for its upgrade would
    reach aiohttp, which serves no sockets. Health checks and scrapes are rare; sockets are not."""
    response.force_close()
    response.headers["Connection"] = "close"  # said too: the hook runs after aiohttp chose the headers


def create_app(settings: PushSettings) -> web.Application:
    """Build a pushd node; no I/O happens until it starts.

    Serve it with ``pushd.front.PushRunner``, which answers WebSocket upgrades on ``/ws``.
    Everything it serves comes from Redis; PostgreSQL only answers whether a token is revoked when
    Redis does not know (``shared.denylist``).
    """
    app = web.Application(middlewares=[*standard_middlewares(), body_timeout_middleware(settings.body_timeout)])
    harden_responses(app)
    app.on_response_prepare.append(_one_request_per_connection)
    app[SERVICE] = "pushd"
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_redis_ctx)
    app.cleanup_ctx.append(node_ctx)
    app.on_shutdown.append(drain_on_shutdown)
    add_health_routes(app, {"redis": redis_check(REDIS), "reader": _reader_check}, timeout=settings.ready_timeout)
    app.router.add_get("/ws", ws_refused)  # upgrades are taken by pushd.front first
    return app
