"""The catalog's Redis read cache, invalidated from the odds streams.

A cache key carries a *generation*: the id of the last ``odds:{league}`` entry this node has seen
for the league a query is about (or the newest over all leagues), so a new stream entry makes every
older key unreachable at once, with no key scanning. Catalog reads (sports, leagues, sidebar) use a
generation that only moves on event-level changes. Keys also expire by a TTL chosen per tier, and a
Redis failure falls back to the database (the cache is never required).

In front of Redis sits a small per-process copy of the hottest bodies (same keys, so the same
invalidation; at most ``LOCAL_TTL`` seconds and ``LOCAL_MAX`` entries): a hit then costs no Redis
round trip, which is most of the CPU of a cached read.

A body is encoded once per fill and kept with its ETag (a digest of the bytes), so a hit encodes
nothing and a client that revalidates with ``If-None-Match`` gets a 304 with no body. The ETag
depends on the bytes only: a new generation that yields the same body keeps the client's copy valid.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import redis.exceptions
from aiohttp import web
from prometheus_client import Counter

from shared.redis import Redis
from shared.streams import parse_id, text

log = logging.getLogger(__name__)

CACHE_REQUESTS = Counter("catalog_cache_requests_total", "Catalog cache lookups", ["endpoint", "result"])
# v2: a value is the ETag, a newline, then the body (v1 values held the body alone).
PREFIX = "wb:cache:catalog:v2"
LOCAL_TTL = 2.0
LOCAL_MAX = 512
DIGEST_MAX = 4096


@dataclass(frozen=True, slots=True)
class Cached:
    """One encoded read: the JSON bytes and their strong ETag (quoted, as sent)."""

    body: bytes
    etag: str

    @classmethod
    def of(cls, body: bytes) -> Cached:
        """The entry of freshly encoded ``body`` (hashes it once)."""
        return cls(body, '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"')

    def pack(self) -> bytes:
        """The Redis value: ETag, newline, body."""
        return self.etag.encode() + b"\n" + self.body

    @classmethod
    def unpack(cls, raw: bytes) -> Cached | None:
        """An entry read back from Redis, or None when the value is not in this layout."""
        etag, sep, body = raw.partition(b"\n")
        if not sep or len(etag) != 26 or etag[:1] != b'"' or etag[-1:] != b'"':
            return None
        return cls(body, etag.decode("ascii"))


def etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 13.1.2: does an ``If-None-Match`` value name ``etag`` (weak comparison, or ``*``)?"""
    value = if_none_match.strip()
    if value == "*":
        return True
    for candidate in value.split(","):
        tag = candidate.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag == etag:
            return True
    return False


def _newer(a: str, b: str) -> bool:
    return parse_id(a) > parse_id(b)


class CatalogCache:
    """Generations per league from the streams, and cached JSON bodies (with their ETags) in Redis."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.odds_gen: dict[str, str] = {}
        self.catalog_gen = "0-0"
        self.all_gen = "0-0"
        self.invalidations = 0
        self.ready = asyncio.Event()  # set once the invalidator has read every stream's position
        self.local: collections.OrderedDict[str, tuple[float, Cached]] = collections.OrderedDict()
        self.inflight: dict[str, asyncio.Future[Cached]] = {}
        self.digests: dict[tuple[str, str], str] = {}
        self.counters: dict[tuple[str, str], Any] = {}

    def _count(self, endpoint: str, result: str) -> None:
        # A labelled child looked up once: ``labels()`` validates and locks on every call.
        child = self.counters.get((endpoint, result))
        if child is None:
            child = self.counters[(endpoint, result)] = CACHE_REQUESTS.labels(endpoint, result)
        child.inc()

    def _local_get(self, key: str) -> Cached | None:
        entry = self.local.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            del self.local[key]
            return None
        return entry[1]

    def _local_put(self, key: str, entry: Cached, seconds: float) -> None:
        self.local[key] = (time.monotonic() + min(seconds, LOCAL_TTL), entry)
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
    def key(endpoint: str, gen: str, params: Mapping[str, Any]) -> str:
        """The Redis key of one read: endpoint, generation and a digest of the parameters."""
        return f"{PREFIX}:{endpoint}:{gen}:{_digest(params)}"

    def key_for(self, endpoint: str, gen: str, raw: str, params: Mapping[str, Any]) -> str:
        """``key()``, with the digest remembered by the raw request text the parameters were parsed from
        (the same text always parses to the same parameters), so a repeated read hashes nothing."""
        digest = self.digests.get((endpoint, raw))
        if digest is None:
            if len(self.digests) >= DIGEST_MAX:  # bounded: arbitrary query strings cannot grow it
                self.digests.clear()
            digest = self.digests[(endpoint, raw)] = _digest(params)
        return f"{PREFIX}:{endpoint}:{gen}:{digest}"

    async def get_or_load(self, endpoint: str, key: str, ttl: float | Callable[[Any], float],
                          load: Callable[[], Awaitable[Any]]) -> tuple[Cached, bool]:
        """The cached entry under ``key``, or ``load()`` encoded and stored; (entry, hit)."""
        local = self._local_get(key)
        if local is not None:
            self._count(endpoint, "hit")
            return local, True
        cached: Any
        try:
            cached = await self.redis.get(key)
        except (redis.exceptions.RedisError, OSError):
            cached = None
            self._count(endpoint, "error")
        entry = Cached.unpack(bytes(cached)) if cached is not None else None
        if entry is not None:
            self._count(endpoint, "hit")
            try:
                remaining = await self.redis.pttl(key)
            except (redis.exceptions.RedisError, OSError):
                remaining = 0
            if remaining > 0:
                self._local_put(key, entry, remaining / 1000)
            return entry, True
        self._count(endpoint, "miss")
        pending = self.inflight.get(key)
        if pending is not None:  # the same read is being loaded: share it (single-flight)
            return await asyncio.shield(pending), False
        future: asyncio.Future[Cached] = asyncio.get_running_loop().create_future()
        self.inflight[key] = future
        try:
            data = await load()
            entry = Cached.of(orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS))
            future.set_result(entry)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here, so an unshared failure is not reported as unhandled
            raise
        finally:
            del self.inflight[key]
        seconds = ttl(data) if callable(ttl) else ttl
        self._local_put(key, entry, seconds)
        try:
            await self.redis.set(key, entry.pack(), px=max(1, int(seconds * 1000)))
        except (redis.exceptions.RedisError, OSError):
            pass
        return entry, False


def _digest(params: Mapping[str, Any]) -> str:
    return hashlib.blake2b(orjson.dumps(params, option=orjson.OPT_SORT_KEYS), digest_size=12).hexdigest()


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
