"""pushd's app factory: health, metrics and (with the push issue) the WebSocket endpoint."""

from __future__ import annotations

from aiohttp import web

from pushd.config import PushSettings
from pushd.keys import PG, REDIS, SETTINGS
from shared.db import pg_pool_ctx
from shared.health import pg_check, redis_check
from shared.redis import redis_ctx
from shared.web import SERVICE, add_health_routes, standard_middlewares


def create_app(settings: PushSettings) -> web.Application:
    """Build a pushd node; no I/O happens until it starts."""
    app = web.Application(middlewares=standard_middlewares())
    app[SERVICE] = "pushd"
    app[SETTINGS] = settings
    app.cleanup_ctx.append(pg_pool_ctx(PG, settings.database_url, settings.pg_pool_min, settings.pg_pool_max))
    app.cleanup_ctx.append(redis_ctx(REDIS, settings.redis_url))
    add_health_routes(
        app, {"postgres": pg_check(PG), "redis": redis_check(REDIS)}, timeout=settings.ready_timeout
    )
    return app
