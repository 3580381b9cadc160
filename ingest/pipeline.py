"""The poll loop: each tick, plan (scheduler), call the provider, diff, publish to Redis, store in PG.

Ingest's memory holds the current snapshot of every league; Redis and PostgreSQL are sinks fed in
order from it. Provider, Redis and PostgreSQL failures are logged and retried; the loop never dies
on them.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ingest.differ import carry_forward, diff, header
from ingest.metrics import CALLS_SAVED, CALLS_SKIPPED, FEED_INTERVAL, FEED_UPDATED
from ingest.model import (
    AWAITING,
    OPEN_STATUSES,
    League,
    Snapshot,
    book_titles,
    league_from_api,
    new_event,
    odds_from_api,
    overdue,
    parse_time_ms,
    scores_from_api,
    status_for,
)
from ingest.providers import CallSkipped, Provider, odds_cost, scores_cost
from ingest.publisher import Batch, Publisher, make_batch
from ingest.scheduler import TIERS, OddsRequest, Plan, Scheduler, ScoresRequest
from ingest.store import Store, StoreBatch
from shared import streams

log = logging.getLogger(__name__)
AWAITING_FORGET_MS = 7 * 86_400_000  # an awaiting game without a result leaves ingest's memory after a week


class Board:
    """What ingest knows right now: every league polled and its snapshot of events.

    The poller writes it; the sinks read it to resync. It exists apart from the poller so that the
    sinks can be built first and handed to the poller at construction."""

    def __init__(self) -> None:
        self.leagues: dict[str, League] = {}
        self.state: dict[str, Snapshot] = {}

    def full_state(self, league: str) -> Snapshot:
        """The in-memory snapshot of one league (what the sinks resync from)."""
        return self.state.get(league, {})

    def league_list(self) -> list[League]:
        """The leagues being polled."""
        return list(self.leagues.values())


class Poller:
    """Runs the tiers against one provider and feeds the sinks (each optional: a test may run without)."""

    name = "poller"

    def __init__(self, provider: Provider, scheduler: Scheduler, *, board: Board | None = None,
                 publisher: Publisher | None = None, store: Store | None = None, league_filter: tuple[str, ...] = (),
                 upcoming_ms: float = 86_400_000, final_linger_ms: float = 600_000, tick: float = 1.0,
                 concurrency: int = 8, regions: int = 1) -> None:
        self.provider = provider
        self.scheduler = scheduler
        self.board = board or Board()
        self.publisher = publisher
        self.store = store
        self.league_filter = set(league_filter)
        self.upcoming_ms = upcoming_ms
        self.final_linger_ms = final_linger_ms
        self.tick_seconds = tick
        self.regions = regions
        # The board's own dicts, under the names the polling code reads them by (never rebound).
        self.leagues = self.board.leagues
        self.state = self.board.state
        self.closed_at: dict[str, int] = {}
        self.gone: set[str] = set()  # finished games taken off the board: never re-added
        self.books: dict[str, str] = {}
        self.ticks = 0
        self.sports_checked = 0
        self._sem = asyncio.Semaphore(concurrency)

    async def bootstrap(self, stop: asyncio.Event | None = None) -> bool:
        """Learn the leagues (free call) and pick up each league's snapshot from Redis."""
        delay = 1.0
        while True:
            try:
                sports = await self.provider.sports()
                break
            except Exception as exc:  # the provider is down: keep trying until stopped
                log.warning("provider sports list failed (%s); retrying in %.0fs", exc, delay)
                if stop is None:
                    raise
                try:
                    await asyncio.wait_for(stop.wait(), delay)
                    return False
                except TimeoutError:
                    delay = min(delay * 2, 60)
        await self._add_leagues(sports)
        self.sports_checked = self.provider.now_ms()
        log.info("polling %d league(s) from %s", len(self.leagues), self.provider.name)
        return True

    async def _add_leagues(self, sports: list[dict[str, Any]]) -> list[str]:
        """Start polling the listed leagues not polled yet (their snapshot picked up from Redis)."""
        added = []
        for raw in sports:
            lg = league_from_api(raw)
            if not lg.active or lg.has_outrights or (self.league_filter and lg.key not in self.league_filter):
                continue
            if lg.key in self.leagues:
                continue
            self.leagues[lg.key] = lg
            loaded = await self.publisher.load(lg.key) if self.publisher else {}
            self.state[lg.key] = loaded
            for eid, ev in loaded.items():
                if ev["status"] not in OPEN_STATUSES:
                    self.closed_at[eid] = self.provider.now_ms()
            added.append(lg.key)
        if added and self.store is not None:
            self.store.catalog_dirty = True
        return added

    async def _refresh_leagues(self, now: int) -> None:
        """Re-read the league list (free) once per scheduled interval: seasons start mid-run."""
        if now - self.sports_checked < self.scheduler.tiers.interval_ms("scheduled", self.provider.slowdown()):
            return
        self.sports_checked = now
        try:
            added = await self._add_leagues(await self.provider.sports())
        except Exception as exc:
            log.warning("provider sports list failed: %s", exc)
            return
        if added:
            log.info("now also polling %s", ", ".join(added))

    async def run(self, stop: asyncio.Event) -> None:
        """Bootstrap, then tick every ``tick`` seconds until ``stop``."""
        if not await self.bootstrap(stop):
            return
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:  # a bug in one tick must not stop the odds: log it and go on
                log.exception("ingest tick failed")
            try:
                await asyncio.wait_for(stop.wait(), self.tick_seconds)
            except TimeoutError:
                pass

    async def tick(self) -> int:
        """One pass of the plan over every league; returns the number of changes produced."""
        now = self.provider.now_ms()
        await self._refresh_leagues(now)
        plan = self.scheduler.plan(now, self.state, list(self.leagues), self.provider.slowdown())
        idle = self.scheduler.idle_skips(plan.no_games, now, self.provider.slowdown())
        if idle:
            CALLS_SKIPPED.labels("no_games").inc(idle)
        outputs = await asyncio.gather(*(self._league_tick(key, now, plan) for key in self.leagues))
        batches = [b for b in outputs if b is not None]
        if self.publisher is not None:
            await self.publisher.verify()
            for batch in batches:
                await self.publisher.publish(batch)
            if self.publisher.pending or self.publisher.resync_needed or self.publisher.orphan_results:
                await self.publisher.flush()
        if self.store is not None:
            if batches:
                await self.store.write(self._store_batch(batches))
            elif self.store.queue or self.store.full_sync_needed or self.store.catalog_dirty:
                await self.store.flush()
        self._export_freshness(now)
        self.ticks += 1
        return sum(len(b.changes) for b in batches)

    def _export_freshness(self, now: int) -> None:
        """Feed freshness per league and tier, for the stale-feed alert (deploy/prometheus)."""
        slowdown = self.provider.slowdown()
        for tier in TIERS:
            FEED_INTERVAL.labels(tier).set(self.scheduler.tiers.interval_ms(tier, slowdown) / 1000)
        for (league, tier), at in self.scheduler.freshness(now, self.state, list(self.leagues)).items():
            FEED_UPDATED.labels(league, tier).set(at / 1000)

    def _store_batch(self, batches: list[Batch]) -> StoreBatch:
        """All leagues' changes of one tick as one PostgreSQL transaction."""
        headers: dict[str, dict[str, Any] | None] = {}
        prices: list[dict[str, Any]] = []
        for batch in batches:
            state = self.state.get(batch.league, {})
            for change in batch.changes:
                eid = change["event"]
                if "kind" in change:
                    headers[eid] = header(state[eid]) if eid in state else None
                else:
                    prices.append(change)
        return StoreBatch("*", headers, prices, dict(self.books))

    async def _league_tick(self, key: str, now: int, plan: Plan) -> Batch | None:
        league = self.leagues[key]
        old = self.state.get(key, {})
        new = dict(old)
        touched: set[str] = set()
        async with self._sem:
            if key in plan.discover:
                await self._discover(league, new, touched, now)
            for req in plan.odds:
                if req.league == key:
                    await self._odds(league, req, new, touched, now)
            for sreq in plan.scores:
                if sreq.league == key:
                    await self._scores(league, sreq, new, touched, now)
        results = self._advance(league, new, touched, now)
        if not touched:
            return None
        # Only the touched events can differ: diff those (removals included), not the whole league.
        changes = diff({eid: old[eid] for eid in touched if eid in old},
                       {eid: new[eid] for eid in touched if eid in new}, now)
        self.state[key] = new
        if not changes and not results:
            return None
        return make_batch(key, changes, new, results)

    async def _discover(self, league: League, new: Snapshot, touched: set[str], now: int) -> None:
        try:
            events = await self.provider.events(league.key)
        except CallSkipped as exc:
            _skipped(exc)
            return
        except Exception as exc:
            log.warning("events of %s failed: %s", league.key, exc)
            return
        self.scheduler.discovered(league.key, now)
        listed = set()
        for raw in events:
            eid = str(raw["id"])
            listed.add(eid)
            self._merge_header(league, raw, new, touched)
        for eid, ev in list(new.items()):
            # A game that vanished before it started will not be played (or moved): take it off the board.
            if eid not in listed and ev["status"] in ("scheduled", "upcoming"):
                del new[eid]
                touched.add(eid)
                self.scheduler.forget([eid])

    def _merge_header(self, league: League, raw: dict[str, Any], new: Snapshot, touched: set[str]) -> None:
        eid = str(raw["id"])
        if eid in self.gone:
            return
        fresh = new_event(raw, league)
        ev = new.get(eid)
        if ev is None:
            new[eid] = fresh
            touched.add(eid)
            return
        if ev["status"] not in OPEN_STATUSES:
            return
        if (fresh["home"], fresh["away"], fresh["commence"]) != (ev["home"], ev["away"], ev["commence"]):
            new[eid] = {**ev, "home": fresh["home"], "away": fresh["away"], "commence": fresh["commence"]}
            touched.add(eid)

    async def _odds(self, league: League, req: OddsRequest, new: Snapshot, touched: set[str], now: int) -> None:
        cost = odds_cost(req.markets, self.regions)
        asked = set(req.event_ids) if req.event_ids is not None else {
            eid for eid, ev in new.items() if ev["status"] in OPEN_STATUSES}
        if not self.provider.can_spend(cost):
            # Deferred to the events' next interval: one skip per call the schedule wanted, not per tick.
            CALLS_SKIPPED.labels("quota").inc()
            self.scheduler.polled_odds(sorted(asked), now)
            return
        try:
            events = await self.provider.odds(league.key, req.markets, req.event_ids)
        except CallSkipped as exc:
            _skipped(exc)
            if exc.reason == "quota":
                self.scheduler.polled_odds(sorted(asked), now)
            return
        except Exception as exc:
            log.warning("odds of %s failed: %s", league.key, exc)
            return
        if len(req.tiers) > 1:  # one call made where a per-tier poller would have made one per tier
            CALLS_SAVED.inc(len(req.tiers) - 1)
        self.books.update(book_titles(events))
        seen: list[str] = []
        for raw in events:
            eid = str(raw["id"])
            self._merge_header(league, raw, new, touched)
            ev = new.get(eid)
            if ev is None or ev["status"] not in OPEN_STATUSES:
                continue
            odds = odds_from_api(raw, req.markets)
            if odds != ev["odds"]:
                updated = carry_forward(ev, {**ev, "odds": odds})
                if updated["odds"] != ev["odds"]:
                    new[eid] = updated
                    touched.add(eid)
            seen.append(eid)
        for eid in asked - set(seen):
            ev = new.get(eid)
            if ev is not None and ev["odds"]:
                new[eid] = {**ev, "odds": {}}  # no book prices it any more
                touched.add(eid)
        self.scheduler.polled_odds(sorted(asked | set(seen)), now)

    async def _scores(self, league: League, req: ScoresRequest, new: Snapshot, touched: set[str], now: int) -> None:
        if not self.provider.can_spend(scores_cost(req.days_from)):
            CALLS_SKIPPED.labels("quota").inc()
            self.scheduler.polled_scores(league.key, now, late=req.late)
            return
        try:
            items = await self.provider.scores(league.key, req.event_ids, req.days_from)
        except CallSkipped as exc:
            _skipped(exc)
            if exc.reason == "quota":
                self.scheduler.polled_scores(league.key, now, late=req.late)
            return
        except Exception as exc:
            log.warning("scores of %s failed: %s", league.key, exc)
            return
        self.scheduler.polled_scores(league.key, now, late=req.late)
        for item in items:
            ev = new.get(str(item.get("id")))
            if ev is None or (ev["status"] not in OPEN_STATUSES and ev["status"] != AWAITING):
                continue
            scores = scores_from_api(item)
            status = ev["status"]
            if item.get("cancelled"):
                status = "cancelled"
            elif item.get("completed"):
                status = "final"
            if scores != ev["scores"] or status != ev["status"]:
                new[ev["id"]] = {**ev, "scores": scores if scores is not None else ev["scores"], "status": status}
                touched.add(ev["id"])

    def _advance(self, league: League, new: Snapshot, touched: set[str], now: int) -> list[dict[str, bytes]]:
        """Time-driven status moves, closing finished games (and their results), and lingering removal."""
        results = []
        for eid, ev in list(new.items()):
            status = ev["status"]
            if status in OPEN_STATUSES and overdue(ev, now):
                # Started longer ago than the sport allows, and no score: the feed lost it. Off the
                # board and not bettable; its scores are still asked for, and the void rule decides.
                new[eid] = {**ev, "status": AWAITING, "odds": {},
                            "markets": {m: {**f, "open": False} for m, f in ev["markets"].items()}}
                touched.add(eid)
                continue
            if status == AWAITING:
                if now - parse_time_ms(ev["commence"]) >= AWAITING_FORGET_MS:
                    del new[eid]
                    self.gone.add(eid)
                    touched.add(eid)
                    self.scheduler.forget([eid])
                continue
            if status in OPEN_STATUSES:
                moved = status_for(parse_time_ms(ev["commence"]), now, int(self.upcoming_ms))
                if moved != status:
                    new[eid] = ev = {**ev, "status": moved}
                    touched.add(eid)
                continue
            if eid not in self.closed_at:
                # Just became final or cancelled: close the markets, take the prices down, announce.
                self.closed_at[eid] = now
                new[eid] = {**ev, "odds": {}, "markets": {m: {**f, "open": False} for m, f in ev["markets"].items()}}
                touched.add(eid)
                scores = ev["scores"]
                home, away = (scores["home"], scores["away"]) if scores else (None, None)
                results.append(streams.encode_result(eid, league.key, status, home, away))
            elif now - self.closed_at[eid] >= self.final_linger_ms:
                del new[eid]
                del self.closed_at[eid]
                self.gone.add(eid)
                touched.add(eid)
                self.scheduler.forget([eid])
        return results



def _skipped(exc: CallSkipped) -> None:
    """Count a call the provider did not send (a back-off window counts once)."""
    if exc.counted:
        CALLS_SKIPPED.labels(exc.reason).inc()
        log.info("%s", exc)
