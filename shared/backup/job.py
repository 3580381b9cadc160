"""The backup job: WAL intake and retention (``barman cron``), scheduled backups, metrics, readiness.

Readiness is ``barman check`` (archiving works, backups possible, redundancy met). Metrics describe
the newest backup and PostgreSQL's own archiver counters, for alerts on a stale backup or failing
WAL shipping.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

import aiopg
from aiohttp import web
from prometheus_client import Counter, Gauge

from shared.backup.barman import Backup, Barman, BarmanError
from shared.backup.settings import BackupSettings
from shared.db import create_pool
from shared.web import SERVICE, add_health_routes, bound_port, standard_middlewares, start_side_server

log = logging.getLogger(__name__)

BACKUP_LAST_SUCCESS = Gauge("backup_last_success_timestamp_seconds", "End time of the newest finished base backup")
BACKUP_AGE = Gauge("backup_age_seconds", "Seconds since the newest finished base backup ended (+Inf: none)")
BACKUP_COUNT = Gauge("backup_count", "Finished base backups in the catalogue")
BACKUP_RUNS = Counter("backup_runs_total", "Base backups the job started, by result", ["kind", "result"])
BACKUP_CHECK_OK = Gauge("backup_check_ok", "1 while `barman check` passes, else 0")
ARCHIVED = Gauge("pg_stat_archiver_archived_count", "WAL segments PostgreSQL archived (pg_stat_archiver)")
ARCHIVE_FAILED = Gauge("pg_stat_archiver_failed_count", "Failed archive_command runs (pg_stat_archiver)")
ARCHIVE_AGE = Gauge("pg_stat_archiver_last_archive_age_seconds", "Seconds since the last WAL segment was archived")

ARCHIVER_SQL = """
SELECT archived_count, failed_count, extract(epoch FROM now() - last_archived_time) FROM pg_stat_archiver
"""

Clock = Callable[[], datetime]


def backup_due(backups: list[Backup], every: float, now: datetime, kind: str = "full") -> bool:
    """Is a backup of ``kind`` due: none yet, or the newest one ended ``every`` seconds ago or more?"""
    done = [b.end_time for b in backups if b.status == "DONE" and b.end_time is not None
            and (kind != "full" or b.backup_type != "incremental")]
    return not done or (now - max(done)).total_seconds() >= every


class BackupJob:
    """One round every ``BACKUP_POLL`` seconds: cron, metrics, and a backup when one is due."""

    name = "backup"

    def __init__(self, barman: Barman, settings: BackupSettings, pg: aiopg.Pool, now: Clock | None = None) -> None:
        self.barman = barman
        self.settings = settings
        self.pg = pg
        self.now = now or (lambda: datetime.now(UTC))

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.round()
            except Exception:
                log.exception("backup round failed")
            try:
                await asyncio.wait_for(stop.wait(), self.settings.backup_poll)
            except TimeoutError:
                pass

    async def round(self) -> None:
        """Take in WAL, back up when due, then refresh the metrics."""
        await asyncio.to_thread(self.barman.cron)
        backups = await asyncio.to_thread(self.barman.backups)
        now = self.now()
        kind = None
        if backup_due(backups, self.settings.backup_full_every, now):
            kind = "full"
        elif self.settings.backup_incremental_every and backup_due(
                backups, self.settings.backup_incremental_every, now, kind="any"):
            kind = "incremental"
        if kind is not None:
            parent = backups[-1].backup_id if kind == "incremental" and backups else None
            try:
                backup_id = await asyncio.to_thread(self.barman.backup, parent)
                BACKUP_RUNS.labels(kind, "ok").inc()
                log.info("%s backup %s done", kind, backup_id)
            except BarmanError as exc:
                BACKUP_RUNS.labels(kind, "failed").inc()
                log.error("%s backup failed: %s", kind, exc)
            backups = await asyncio.to_thread(self.barman.backups)
        self.observe(backups, self.now())
        async with self.pg.acquire() as conn, conn.cursor() as cur:
            await cur.execute(ARCHIVER_SQL)
            row = await cur.fetchone()
        if row is not None:
            ARCHIVED.set(row[0])
            ARCHIVE_FAILED.set(row[1])
            ARCHIVE_AGE.set(float("inf") if row[2] is None else float(row[2]))

    @staticmethod
    def observe(backups: list[Backup], now: datetime) -> None:
        """Set the backup gauges from the catalogue."""
        ends = [b.end_time for b in backups if b.status == "DONE" and b.end_time is not None]
        BACKUP_COUNT.set(len(ends))
        if ends:
            BACKUP_LAST_SUCCESS.set(max(ends).timestamp())
            BACKUP_AGE.set((now - max(ends)).total_seconds())
        else:
            BACKUP_AGE.set(float("inf"))


def side_app(barman: Barman, ready_timeout: float) -> web.Application:
    """/healthz, /metrics, and /readyz that runs ``barman check``."""

    async def barman_check(app: web.Application) -> None:
        try:
            await asyncio.to_thread(barman.check)
        except BarmanError:
            BACKUP_CHECK_OK.set(0)
            raise
        BACKUP_CHECK_OK.set(1)

    app = web.Application(middlewares=standard_middlewares())
    app[SERVICE] = "backup"
    add_health_routes(app, {"barman": barman_check}, ready_timeout)
    return app


async def run(settings: BackupSettings, stop: asyncio.Event, on_ready: Callable[[int], None] | None = None) -> None:
    """Run the backup job and its side server until ``stop`` is set."""
    barman = Barman.from_settings(settings)
    await asyncio.to_thread(barman.write_config, settings)
    pg = await create_pool(settings.database_direct_url or settings.database_url, 1, 2)
    # barman check can take a few seconds (it connects twice); give readiness room for it.
    runner = await start_side_server(side_app(barman, max(settings.ready_timeout, 20.0)),
                                     settings.backup_host, settings.backup_port)
    try:
        port = bound_port(runner)
        log.info("backup job health and metrics on http://%s:%s", settings.backup_host, port)
        if on_ready is not None:
            on_ready(port)
        await BackupJob(barman, settings, pg).run(stop)
    finally:
        await runner.cleanup()
        pg.close()
        await pg.wait_closed()
