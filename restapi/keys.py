"""Typed application keys of restapi (``app[KEY]``)."""

from __future__ import annotations

import asyncio

import aiopg
from aiohttp import web

from restapi.auth.origins import PublicOrigins
from restapi.catalog.cache import CatalogCache
from restapi.config import RestSettings
from restapi.switches.live import Watcher
from shared.clock import Clock
from shared.mail import Mailer
from shared.redis import Redis
from shared.tokens import KeyRing, Verifier

SETTINGS: web.AppKey[RestSettings] = web.AppKey("settings", RestSettings)
PG: web.AppKey[aiopg.Pool] = web.AppKey("pg", aiopg.Pool)
# The read replica's pool; the same object as PG when no DATABASE_REPLICA_URL is set.
PG_READ: web.AppKey[aiopg.Pool] = web.AppKey("pg_read", aiopg.Pool)
REDIS: web.AppKey[Redis] = web.AppKey("redis", Redis)
KEYRING: web.AppKey[KeyRing] = web.AppKey("keyring", KeyRing)
VERIFIER: web.AppKey[Verifier] = web.AppKey("verifier", Verifier)
CATALOG_CACHE: web.AppKey[CatalogCache] = web.AppKey("catalog_cache", CatalogCache)
MAILER: web.AppKey[Mailer] = web.AppKey("mailer", Mailer)
# Fire-and-forget work started by handlers (reset mails); awaited on shutdown so none is lost.
# The clock every handler reads "now" from (tests pass a fixed one to create_app).
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
TASKS: web.AppKey[set[asyncio.Task[None]]] = web.AppKey("tasks", set)
SWITCHES: web.AppKey[Watcher] = web.AppKey("switches", Watcher)
# The site's public origins (mail links, cookie-request Origin checks), parsed once at start-up.
ORIGINS: web.AppKey[PublicOrigins] = web.AppKey("public_origins", PublicOrigins)
