"""The catalog's Redis read cache, invalidated from the odds streams.

A cache key carries a *generation*: the id of the last ``odds:{league}`` entry this node has seen
for the league a query is about (or the newest over all leagues), so a new stream entry makes every
older key unreachable at once, with no key scanning. Catalog reads (sports, leagues, sidebar) use a
generation that only moves on event-level changes. Keys also expire by a TTL chosen per tier, and a
Redis failure falls back to the database (the cache is never required).

In front of Redis sits a small per-process copy of the hottest bodies (same keys, so the same
invalidation; at most ``LOCAL_TTL`` seconds and ``LOCAL_MAX`` entries): a hit then costs no Redis
round trip, which is most of the CPU of a cached read.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
import redis.exceptions
from aiohttp import web
from prometheus_client import Counter

from shared.redis import Redis
from shared.streams import parse_id, text

log = logging.getLogger(__name__)

CACHE_REQUESTS = Counter("catalog_cache_requests_total", "Catalog cache lookups", ["endpoint", "result"])
PREFIX = "wb:cache:catalog"
LOCAL_TTL = 2.0
LOCAL_MAX = 512


def _newer(a: str, b: str) -> bool:
    return parse_id(a) > parse_id(b)


class CatalogCache:
    """Generations per league from the streams, and cached JSON bodies in Redis."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.odds_gen: dict[str, str] = {}
        self.catalog_gen = "0-0"
        self.all_gen = "0-0"
        self.invalidations = 0
        self.ready = asyncio.Event()  # set once the invalidator has read every stream's position
        self.local: collections.OrderedDict[str, tuple[float, bytes]] = collections.OrderedDict()
        self.inflight: dict[str, asyncio.Future[bytes]] = {}

    def _local_get(self, key: str) -> bytes | None:
        entry = self.local.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            del self.local[key]
            return None
        return entry[1]

    def _local_put(self, key: str, body: bytes, seconds: float) -> None:
        self.local[key] = (time.monotonic() + min(seconds, LOCAL_TTL), body)
        self.local.move_to_end(key)
        while len(self.local) > LOCAL_MAX:
            self.local.popitem(last=False)

    def generation(self, league: str | None, catalog: bool = False) -> str:
        """The generation a read depends on: its league's, all leagues', or the catalog's."""
        if catalog:
            return self.catalog_gen
        if league is None:
            return self.all_gen
        return self.odds_gen.get(league, self.all_gen)

    def seen(self, league: str, entry_id: str, event_level: bool) -> None:
        """Record a stream entry (moves the generations its reads depend on)."""
        if league not in self.odds_gen or _newer(entry_id, self.odds_gen[league]):
            self.odds_gen[league] = entry_id
        if _newer(entry_id, self.all_gen):
            self.all_gen = entry_id
        if event_level and _newer(entry_id, self.catalog_gen):
            self.catalog_gen = entry_id
        self.invalidations += 1

    @staticmethod
    def key(endpoint: str, gen: str, params: dict[str, Any]) -> str:
        """The Redis key of one read: endpoint, generation and a digest of the parameters."""
        digest = hashlib.blake2b(orjson.dumps(params, option=orjson.OPT_SORT_KEYS), digest_size=12).hexdigest()
        return f"{PREFIX}:{endpoint}:{gen}:{digest}"

    async def get_or_load(self, endpoint: str, key: str, ttl: float | Callable[[Any], float],
                          load: Callable[[], Awaitable[Any]]) -> tuple[bytes, bool]:
        """The cached JSON body under ``key``, or ``load()`` encoded and stored; (body, hit)."""
        local = self._local_get(key)
        if local is not None:
            CACHE_REQUESTS.labels(endpoint, "hit").inc()
            return local, True
        cached: Any
        try:
            cached = await self.redis.get(key)
        except (redis.exceptions.RedisError, OSError):
            cached = None
            CACHE_REQUESTS.labels(endpoint, "error").inc()
        if cached is not None:
            CACHE_REQUESTS.labels(endpoint, "hit").inc()
            try:
                remaining = await self.redis.pttl(key)
            except (redis.exceptions.RedisError, OSError):
                remaining = 0
            if remaining > 0:
                self._local_put(key, bytes(cached), remaining / 1000)
            return bytes(cached), True
        CACHE_REQUESTS.labels(endpoint, "miss").inc()
        pending = self.inflight.get(key)
        if pending is not None:  # the same read is being loaded: share it (single-flight)
            return await asyncio.shield(pending), False
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.inflight[key] = future
        try:
            data = await load()
            body = orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
            future.set_result(body)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here, so an unshared failure is not reported as unhandled
            raise
        finally:
            del self.inflight[key]
        seconds = ttl(data) if callable(ttl) else ttl
        self._local_put(key, body, seconds)
        try:
            await self.redis.set(key, body, px=max(1, int(seconds * 1000)))
        except (redis.exceptions.RedisError, OSError):
            pass
        return body, False


class Invalidator:
    """Follows every ``odds:*`` stream (XREAD) and feeds entries to the cache's generations."""

    def __init__(self, cache: CatalogCache, *, block_ms: int = 1000, rescan: float = 5.0) -> None:
        self.cache = cache
        self.block_ms = block_ms
        self.rescan = rescan
        self.offsets: dict[str, str] = {}

    async def _discover(self) -> None:
        redis = self.cache.redis
        async for raw in redis.scan_iter(match="odds:*", count=500):
            name = text(raw)
            if name in self.offsets:
                continue
            top: Any = await redis.xrevrange(name, count=1)
            last = top[0][0].decode() if top else "0-0"
            self.offsets[name] = last
            if top:
                self.cache.seen(name.split(":", 1)[1], last, event_level=True)

    async def run(self, stop: asyncio.Event) -> None:
        """Follow the streams until ``stop``; after a Redis failure every cached read is unreachable."""
        delay = 0.5
        loop = asyncio.get_running_loop()
        next_scan = 0.0
        while not stop.is_set():
            try:
                if loop.time() >= next_scan:
                    await self._discover()
                    next_scan = loop.time() + self.rescan
                    self.cache.ready.set()
                if not self.offsets:
                    await asyncio.wait_for(stop.wait(), self.rescan)
                    continue
                streams_: Any = self.offsets
                replies: Any = await self.cache.redis.xread(streams_, block=self.block_ms, count=1000)
                for stream, entries in replies or ():
                    name = text(stream)
                    league = name.split(":", 1)[1]
                    for entry_id, fields in entries:
                        eid = entry_id.decode()
                        self.offsets[name] = eid
                        changes = fields.get(b"changes", b"")
                        self.cache.seen(league, eid, event_level=b'"kind"' in changes or changes == b"[]")
                delay = 0.5
            except TimeoutError:
                continue
            except (redis.exceptions.RedisError, OSError) as exc:
                log.warning("cache invalidation reader lost Redis (%s); retrying in %.1fs", type(exc).__name__, delay)
                # Unknown what was missed: make every cached read unreachable.
                self.offsets.clear()
                self.cache.catalog_gen = self.cache.all_gen = f"{int(loop.time() * 1000)}-{id(self) % 1000}"
                self.cache.odds_gen.clear()
                try:
                    await asyncio.wait_for(stop.wait(), delay)
                except TimeoutError:
                    pass
                delay = min(delay * 2, 10.0)


def invalidator_ctx(make: Callable[[web.Application], Invalidator]) -> Callable[[web.Application],
                                                                                 AsyncIterator[None]]:
    """A `cleanup_ctx` running the invalidator for the app's lifetime."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        inv = make(app)
        stop = asyncio.Event()
        task = asyncio.create_task(inv.run(stop), name="catalog-invalidator")
        try:
            yield
        finally:
            stop.set()
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    return ctx
