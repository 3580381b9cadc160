"""Persists each tick to PostgreSQL: catalog rows, events, markets, current odds, and history.

Batches are written in order, one transaction each. While PostgreSQL is down they wait in a bounded
queue; if it overflows, the oldest batches' history rows are lost (counted) and the current state
is written in full from ingest's memory once PostgreSQL is back, so current odds are never wrong
for long. A batch PostgreSQL rejects as bad data is logged and skipped, never retried forever.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiopg
import psycopg2

from ingest import queries as q
from ingest.differ import header
from ingest.metrics import BUFFERED, DROPPED, SINK_ERRORS
from ingest.model import League, Snapshot

log = logging.getLogger(__name__)
TRANSIENT = (psycopg2.OperationalError, psycopg2.InterfaceError, OSError, asyncio.TimeoutError)


@dataclass(slots=True)
class StoreBatch:
    """One tick of one league: headers of touched events (None: left the board) and price changes."""

    league: str
    headers: dict[str, dict[str, Any] | None]
    prices: list[dict[str, Any]]
    books: dict[str, str] = field(default_factory=dict)
    at: float = field(default_factory=time.time)


def _events_params(headers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "ids": [h["id"] for h in headers], "sports": [h["sport"] for h in headers],
        "leagues": [h["league"] for h in headers], "homes": [h["home"] for h in headers],
        "aways": [h["away"] for h in headers], "commences": [h["commence"] for h in headers],
        "statuses": [h["status"] for h in headers],
        "home_scores": [(h["scores"] or {}).get("home") for h in headers],
        "away_scores": [(h["scores"] or {}).get("away") for h in headers],
    }


def _markets_params(headers: list[dict[str, Any]]) -> dict[str, Any]:
    rows = [(h["id"], m, bool(f.get("open")), bool(f.get("live"))) for h in headers
            for m, f in (h.get("markets") or {}).items()]
    return {"events": [r[0] for r in rows], "markets": [r[1] for r in rows], "open": [r[2] for r in rows],
            "live": [r[3] for r in rows]}


def _dedupe(prices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    last: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for p in prices:
        last[(p["event"], p["book"], p["market"], p["outcome"])] = p
    return list(last.values())


def _cols(rows: list[dict[str, Any]], *names: str) -> dict[str, list[Any]]:
    keys = {"event": "events", "book": "books", "market": "markets", "outcome": "outcomes", "price": "prices",
            "point": "points", "t": "ts"}
    return {keys[n]: [r[n] for r in rows] for n in names}


class Store:
    """The PostgreSQL sink of ingest."""

    def __init__(self, pool: aiopg.Pool, full_state: Callable[[str], Snapshot], leagues: Callable[[], list[League]],
                 *, buffer_max: int = 1000, book_titles: dict[str, str] | None = None) -> None:
        self.pool = pool
        self.full_state = full_state
        self.leagues = leagues
        self.buffer_max = buffer_max
        self.queue: collections.deque[StoreBatch] = collections.deque()
        self.full_sync_needed = True  # the first write also brings the catalog rows in
        self.catalog_dirty = False  # leagues were added since: upsert the catalog before new events
        self.book_titles = dict(book_titles or {})
        self.down = False
        self.sidebar_dirty = asyncio.Event()
        self.lost_history_rows = 0
        self._known_books: set[str] = set()

    async def write(self, batch: StoreBatch) -> None:
        """Queue ``batch`` and write everything queued, in order."""
        self.book_titles.update(batch.books)
        self.queue.append(batch)
        if len(self.queue) > self.buffer_max:
            dropped = self.queue.popleft()
            self.lost_history_rows += len(dropped.prices)
            self.full_sync_needed = True
            DROPPED.labels("postgres").inc()
        await self.flush()

    async def flush(self) -> bool:
        """Write what is queued; False if PostgreSQL failed (kept for later)."""
        try:
            if self.full_sync_needed:
                await self.full_sync()
            elif self.catalog_dirty:
                async with self.pool.acquire() as conn, conn.cursor() as cur:
                    await self._catalog(cur)
                self.catalog_dirty = False
            while self.queue:
                batch = self.queue[0]
                try:
                    await self._write(batch)
                except psycopg2.errors.CheckViolation:
                    await self.ensure_partitions(7)  # a history row for a day without partition
                    await self._write(batch)
                except psycopg2.DatabaseError as exc:
                    if isinstance(exc, TRANSIENT):
                        raise
                    log.error("skipping a batch of %s that PostgreSQL rejected: %s", batch.league, exc)
                    SINK_ERRORS.labels("postgres_rejected").inc()
                self.queue.popleft()
        except TRANSIENT as exc:
            SINK_ERRORS.labels("postgres").inc()
            if not self.down:
                log.warning("postgres write failed (%s); buffering", type(exc).__name__)
            self.down = True
            return False
        finally:
            BUFFERED.labels("postgres").set(len(self.queue))
        if self.down:
            log.info("postgres writes caught up")
        self.down = False
        return True

    async def _catalog(self, cur: Any) -> None:
        leagues = self.leagues()
        sports = {lg.sport: lg for lg in leagues}
        await cur.execute(q.UPSERT_SPORTS, {
            "keys": list(sports), "titles": [lg.sport_title for lg in sports.values()],
            "american": [lg.sport_american for lg in sports.values()],
            "orders": [lg.sport_order for lg in sports.values()]})
        await cur.execute(q.UPSERT_LEAGUES, {
            "keys": [lg.key for lg in leagues], "sports": [lg.sport for lg in leagues],
            "titles": [lg.title for lg in leagues], "descriptions": [lg.description for lg in leagues],
            "american": [lg.american for lg in leagues], "popularity": [lg.popularity for lg in leagues],
            "outrights": [lg.has_outrights for lg in leagues], "active": [lg.active for lg in leagues]})

    async def _books(self, cur: Any, keys: set[str]) -> None:
        if keys:
            ordered = sorted(keys)
            titles = [self.book_titles.get(k, k) for k in ordered]
            await cur.execute(q.UPSERT_BOOKS, {"keys": ordered, "titles": titles})

    async def _write(self, batch: StoreBatch) -> None:
        live = [h for h in batch.headers.values() if h is not None]
        gone = [eid for eid, h in batch.headers.items() if h is None]
        prices = _dedupe(batch.prices)
        sets = [p for p in prices if p["price"] is not None]
        unsets = [p for p in prices if p["price"] is None]
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute("BEGIN")
            try:
                if {p["book"] for p in sets} - self._known_books:
                    await self._books(cur, {p["book"] for p in sets})
                    self._known_books |= {p["book"] for p in sets}
                if live:
                    await cur.execute(q.UPSERT_EVENTS, _events_params(live))
                    await cur.execute(q.UPSERT_MARKETS, _markets_params(live))
                if gone:
                    await cur.execute(q.CLOSE_MARKETS, {"events": gone})
                    await cur.execute(q.DELETE_EVENT_ODDS, {"events": gone})
                if sets:
                    await cur.execute(q.UPSERT_ODDS, _cols(sets, "event", "book", "market", "outcome", "price",
                                                           "point", "t"))
                if unsets:
                    await cur.execute(q.DELETE_ODDS, _cols(unsets, "event", "book", "market", "outcome"))
                if prices:
                    params: dict[str, Any] = _cols(prices, "event", "book", "market", "outcome", "price", "point")
                    params["at"] = datetime.fromtimestamp(batch.at, UTC)
                    await cur.execute(q.INSERT_HISTORY, params)
                await cur.execute("COMMIT")
            except BaseException:
                await cur.execute("ROLLBACK")
                raise
        if live or gone:
            self.sidebar_dirty.set()

    async def full_sync(self) -> None:
        """Write the whole in-memory state: catalog, every event and its current odds."""
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute("BEGIN")
            try:
                await self._catalog(cur)
                await self._books(cur, set(self.book_titles))
                self._known_books = set(self.book_titles)
                known = [eid for lg in self.leagues() for eid in self.full_state(lg.key)]
                await cur.execute(q.STALE_OPEN_EVENTS, {"leagues": [lg.key for lg in self.leagues()], "known": known})
                stale = [r[0] for r in await cur.fetchall()]
                if stale:
                    await cur.execute(q.CLOSE_MARKETS, {"events": stale})
                    await cur.execute(q.DELETE_EVENT_ODDS, {"events": stale})
                for lg in self.leagues():
                    state = self.full_state(lg.key)
                    if not state:
                        continue
                    headers = [header(ev) for ev in state.values()]
                    await cur.execute(q.UPSERT_EVENTS, _events_params(headers))
                    await cur.execute(q.UPSERT_MARKETS, _markets_params(headers))
                    await cur.execute(q.DELETE_EVENT_ODDS, {"events": [h["id"] for h in headers]})
                    rows: list[dict[str, Any]] = [{"event": eid, "book": b, "market": m, "outcome": o, **qt}
                            for eid, ev in state.items() for b, ms in ev.get("odds", {}).items()
                            for m, os_ in ms.items() for o, qt in os_.items()]
                    books = {r["book"] for r in rows} - self._known_books
                    if books:
                        await self._books(cur, books)
                        self._known_books |= books
                    if rows:
                        await cur.execute(q.UPSERT_ODDS, _cols(rows, "event", "book", "market", "outcome", "price",
                                                               "point", "t"))
                await cur.execute("COMMIT")
            except BaseException:
                await cur.execute("ROLLBACK")
                raise
        self.full_sync_needed = self.catalog_dirty = False
        self.sidebar_dirty.set()
        log.info("postgres full sync done")

    async def ensure_partitions(self, days: int) -> int:
        """Create the odds_history partitions from yesterday to ``days`` ahead."""
        first = (datetime.now(UTC) - timedelta(days=1)).date()
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(q.ENSURE_PARTITIONS, {"first": first, "days": days + 2})
            row = await cur.fetchone()
        return int(row[0])

    async def refresh_sidebar(self) -> None:
        """Refresh the sidebar view without blocking its readers."""
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(q.REFRESH_SIDEBAR)


class SidebarRefresher:
    """Refreshes the sidebar view after catalog changes, at most once per ``debounce`` seconds."""

    name = "sidebar"

    def __init__(self, store: Store, debounce: float) -> None:
        self.store = store
        self.debounce = debounce
        self.refreshes = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Wait for a change, refresh, pause ``debounce``; until ``stop``."""
        while not stop.is_set():
            dirty = asyncio.ensure_future(self.store.sidebar_dirty.wait())
            stopped = asyncio.ensure_future(stop.wait())
            await asyncio.wait({dirty, stopped}, return_when=asyncio.FIRST_COMPLETED)
            dirty.cancel()
            stopped.cancel()
            if stop.is_set():
                return
            self.store.sidebar_dirty.clear()
            pause = self.debounce
            try:
                await self.store.refresh_sidebar()
                self.refreshes += 1
            except Exception as exc:  # PG down: try again a little later
                log.warning("sidebar refresh failed: %s", type(exc).__name__)
                self.store.sidebar_dirty.set()
                pause = max(pause, 1.0)
            try:
                await asyncio.wait_for(stop.wait(), pause)
            except TimeoutError:
                pass
