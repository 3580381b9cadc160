"""restapi's app factory: middlewares, pools, health, OpenAPI and every route group."""

from __future__ import annotations

from aiohttp import web

from restapi.config import RestSettings
from restapi.keys import PG, REDIS, SETTINGS
from restapi.openapi import setup_openapi
from shared import VERSION
from shared.db import pg_pool_ctx
from shared.health import pg_check, redis_check
from shared.redis import redis_ctx
from shared.web import SERVICE, add_health_routes, standard_middlewares


def create_app(settings: RestSettings) -> web.Application:
    """Build the restapi application; no I/O happens until it starts."""
    app = web.Application(middlewares=standard_middlewares(), client_max_size=settings.max_body_bytes)
    app[SERVICE] = "restapi"
    app[SETTINGS] = settings
    app.cleanup_ctx.append(pg_pool_ctx(PG, settings.database_url, settings.pg_pool_min, settings.pg_pool_max))
    app.cleanup_ctx.append(redis_ctx(REDIS, settings.redis_url))
    add_health_routes(
        app, {"postgres": pg_check(PG), "redis": redis_check(REDIS)}, timeout=settings.ready_timeout
    )
    setup_openapi(app, VERSION)
    return app
