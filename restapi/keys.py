"""Typed application keys of restapi (``app[KEY]``)."""

from __future__ import annotations

import aiopg
from aiohttp import web

from restapi.catalog.cache import CatalogCache
from restapi.config import RestSettings
from shared.redis import Redis
from shared.tokens import KeyRing, Verifier

SETTINGS: web.AppKey[RestSettings] = web.AppKey("settings", RestSettings)
PG: web.AppKey[aiopg.Pool] = web.AppKey("pg", aiopg.Pool)
REDIS: web.AppKey[Redis] = web.AppKey("redis", Redis)
KEYRING: web.AppKey[KeyRing] = web.AppKey("keyring", KeyRing)
VERIFIER: web.AppKey[Verifier] = web.AppKey("verifier", Verifier)
CATALOG_CACHE: web.AppKey[CatalogCache] = web.AppKey("catalog_cache", CatalogCache)
