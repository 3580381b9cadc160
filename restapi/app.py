"""restapi's app factory: middlewares, pools, health, OpenAPI and every route group."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from restapi import replica
from restapi.agent import routes as agent_routes
from restapi.auth import routes as auth_routes
from restapi.auth.origins import PublicOrigins
from restapi.betting import routes as betting_routes
from restapi.catalog import routes as catalog_routes
from restapi.config import RestSettings
from restapi.headers import setup_security_headers
from restapi.keys import CLOCK, KEYRING, ORIGINS, PG, REDIS, SETTINGS, SWITCHES, VERIFIER
from restapi.openapi import setup_openapi
from restapi.switches import routes as switches_routes
from restapi.switches.live import watcher_ctx
from restapi.user import routes as user_routes
from restapi.web import routes as web_routes
from shared import VERSION
from shared.clock import Clock, utc_now
from shared.connguard import body_timeout_middleware
from shared.db import pg_pool_ctx
from shared.health import pg_check, redis_check
from shared.redis import redis_ctx
from shared.tokens import KeyRing, Verifier
from shared.web import SERVICE, add_health_routes, harden_responses, standard_middlewares


async def keyring_ctx(app: web.Application) -> AsyncIterator[None]:
    """Parse the signing keys once: signing with a parsed key is ~0.3 ms, reparsing the PEM ~40 ms."""
    app[KEYRING] = ring = KeyRing.load(app[SETTINGS].keys_dir)
    app[VERIFIER] = Verifier.from_ring(ring)
    yield


def create_app(settings: RestSettings, clock: Clock = utc_now) -> web.Application:
    """Build the restapi application; no I/O happens until it starts. ``clock`` is where every
    date-dependent answer (report ranges, settlement states, weeks, prices' freshness) reads now."""
    app = web.Application(middlewares=[*standard_middlewares(), body_timeout_middleware(settings.body_timeout),
                                       replica.sticky_middleware],
                          client_max_size=settings.max_body_bytes)
    harden_responses(app)
    setup_security_headers(app, settings)
    app[SERVICE] = "restapi"
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[ORIGINS] = PublicOrigins.from_settings(settings)  # a malformed origin stops start-up here
    app.cleanup_ctx.append(keyring_ctx)
    app.cleanup_ctx.append(pg_pool_ctx(PG, settings.database_url, settings.pg_pool_min, settings.pg_pool_max))
    app.cleanup_ctx.append(redis_ctx(REDIS, settings.redis_url))
    app.cleanup_ctx.append(watcher_ctx(SWITCHES, PG, REDIS, settings.switch_poll))
    app.cleanup_ctx.append(replica.replica_ctx)
    add_health_routes(
        app, {"postgres": pg_check(PG), "redis": redis_check(REDIS)}, timeout=settings.ready_timeout
    )
    setup_openapi(app, VERSION)
    # Every route group is a restapi/<group>/routes.py with a ``setup(app)``; a new group adds one name here.
    for group in (agent_routes, catalog_routes, auth_routes, user_routes, betting_routes, web_routes,
                  switches_routes):
        group.setup(app)
    return app
