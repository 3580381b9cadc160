"""ingest's top level: resources, the side health port, and its loops under one TaskGroup."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import psycopg2

from ingest.archive import Archiver
from ingest.config import IngestSettings
from ingest.pipeline import Board, Poller
from ingest.providers import Provider
from ingest.providers.replay import Recorder, Replay
from ingest.providers.simulator import Simulator
from ingest.providers.theoddsapi import TheOddsApi
from ingest.publisher import Publisher
from ingest.scheduler import Scheduler, Tiers
from ingest.store import SidebarRefresher, Store
from shared.config import ConfigError
from shared.daemon import DaemonContext, Loop, daemon_resources, run_loops

log = logging.getLogger(__name__)


LoopFactory = Callable[[DaemonContext, IngestSettings], Loop]


def check_settings(settings: IngestSettings) -> None:
    """Fail at start-up on settings that only make sense together."""
    if settings.provider == "theoddsapi" and not settings.oddsapi_key:
        raise ConfigError("INGEST_ODDSAPI_KEY: required when INGEST_PROVIDER=theoddsapi")
    if settings.provider == "replay" and settings.replay_dir is None:
        raise ConfigError("INGEST_REPLAY_DIR: required when INGEST_PROVIDER=replay")
    if settings.provider == "replay" and settings.replay_dir and not (settings.replay_dir / "responses.jsonl").exists():
        raise ConfigError(f"INGEST_REPLAY_DIR: no responses.jsonl in {settings.replay_dir}")
    bad = [m for m in settings.markets if m not in ("h2h", "spreads", "totals")]
    if bad or not settings.markets:
        raise ConfigError(f"INGEST_MARKETS: must be some of h2h, spreads, totals, got {','.join(bad) or 'none'}")


def make_provider(settings: IngestSettings) -> Provider:
    """The provider the settings choose (recording its answers when INGEST_RECORD_DIR is set)."""
    check_settings(settings)
    provider: Provider
    if settings.provider == "theoddsapi":
        provider = TheOddsApi(settings.oddsapi_url, settings.oddsapi_key, regions=settings.oddsapi_regions,
                              daily_budget=settings.oddsapi_daily_budget, retries=settings.oddsapi_retries,
                              backoff=settings.oddsapi_backoff)
    elif settings.provider == "replay" and settings.replay_dir is not None:
        provider = Replay(settings.replay_dir, settings.replay_speed)
    else:
        provider = Simulator(settings.sim_seed, settings.sim_leagues, speed=settings.sim_speed,
                             game_minutes=settings.sim_game_minutes)
    if settings.record_dir is not None:
        provider = Recorder(provider, settings.record_dir)
    return provider


class OddsPipeline:
    """The poller with its sinks and side loops (sidebar refresh), as one ingest loop."""

    name = "odds"

    def __init__(self, ctx: DaemonContext, settings: IngestSettings, provider: Provider | None = None) -> None:
        self.provider = provider or make_provider(settings)
        tiers = Tiers(settings.live_interval, settings.upcoming_interval, settings.scheduled_interval)
        regions = len([r for r in settings.oddsapi_regions.split(",") if r.strip()])
        board = Board()
        publisher = Publisher(ctx.redis, board.full_state, maxlen=settings.stream_maxlen,
                              buffer_max=settings.buffer_max)
        self.store = Store(ctx.pg, board.full_state, board.league_list, buffer_max=settings.buffer_max)
        self.poller = Poller(self.provider, Scheduler(tiers, settings.markets, settings.window_hours * 3_600_000),
                             board=board, publisher=publisher, store=self.store, league_filter=settings.leagues,
                             upcoming_ms=settings.upcoming_hours * 3_600_000,
                             final_linger_ms=settings.final_linger * 1000, tick=settings.tick, regions=regions)
        self.sidebar = SidebarRefresher(self.store, settings.sidebar_debounce)

    async def run(self, stop: asyncio.Event) -> None:
        """Run the poller and the sidebar refresher; close the provider at the end."""
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self.poller.run(stop), name="poller")
                tg.create_task(self.sidebar.run(stop), name="sidebar")
        finally:
            await self.provider.close()


def odds_loop(ctx: DaemonContext, settings: IngestSettings) -> Loop:
    """The odds pipeline loop (poller, sinks, sidebar refresh)."""
    return OddsPipeline(ctx, settings)


def archive_loop(ctx: DaemonContext, settings: IngestSettings) -> Loop:
    """The archive and partition-maintenance loop."""
    return Archiver(ctx.pg, settings.archive_dir, settings.archive_days, settings.archive_interval,
                    settings.partitions_ahead)


DEFAULT_LOOPS: list[LoopFactory] = [odds_loop, archive_loop]


async def run(settings: IngestSettings, stop: asyncio.Event, loops: list[LoopFactory] | None = None,
              on_ready: Callable[[DaemonContext], None] | None = None) -> None:
    """Run ingest until ``stop`` is set (``loops`` None: the odds pipeline and the archiver).

    PostgreSQL being unreachable at start-up is waited out with back-off, like an outage later on."""
    delay = 1.0
    while not stop.is_set():
        started = False
        try:
            async with daemon_resources("ingest", settings, settings.host, settings.port) as ctx:
                started = True
                tasks = [factory(ctx, settings) for factory in (DEFAULT_LOOPS if loops is None else loops)]
                log.info("ingest running %d loop(s)", len(tasks))
                if on_ready is not None:
                    on_ready(ctx)
                await run_loops(tasks, stop)
            log.info("ingest stopped")
            return
        except (psycopg2.OperationalError, OSError) as exc:
            if started:
                raise
            log.warning("cannot start (%s); retrying in %.0fs", type(exc).__name__, delay)
            try:
                await asyncio.wait_for(stop.wait(), delay)
            except TimeoutError:
                delay = min(delay * 2, 30.0)
