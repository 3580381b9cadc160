"""PostgreSQL persistence: events, markets, current odds, appended history, and surviving an outage."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import aiopg
import psycopg2
import pytest

from ingest.pipeline import Board, Poller
from ingest.providers.simulator import Simulator
from ingest.scheduler import Scheduler, Tiers
from ingest.store import SidebarRefresher, Store, StoreBatch
from tests.helpers import wait_for

MARKETS = ("h2h", "spreads", "totals")


def _poller(pg: aiopg.Pool, clock: list[float], leagues: int = 6) -> Poller:
    sim = Simulator(seed=8, leagues=leagues, clock=lambda: clock[0])
    board = Board()
    store = Store(pg, board.full_state, board.league_list, buffer_max=3)
    return Poller(sim, Scheduler(Tiers(), MARKETS, 72 * 3_600_000), board=board, store=store,
                  final_linger_ms=3_600_000)


async def _rows(pg: aiopg.Pool, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    async with pg.acquire() as conn, conn.cursor() as cur:
        await cur.execute(sql, params)
        return list(await cur.fetchall())


async def _current_odds(pg: aiopg.Pool) -> dict[tuple[str, str, str, str], tuple[int, float | None]]:
    rows = await _rows(pg, "SELECT event_id, book, market, outcome, price, point FROM odds")
    return {(r[0], r[1], r[2], r[3]): (r[4], None if r[5] is None else float(r[5])) for r in rows}


def _memory_odds(poller: Poller) -> dict[tuple[str, str, str, str], tuple[int, float | None]]:
    return {(eid, b, m, o): (q["price"], q["point"])
            for state in poller.state.values() for eid, ev in state.items()
            for b, ms in ev["odds"].items() for m, os_ in ms.items() for o, q in os_.items()}


async def test_ticks_persist_events_markets_current_odds_and_history(pg: aiopg.Pool) -> None:
    clock = [1_800_000_000.0]
    poller = _poller(pg, clock)
    await poller.bootstrap()
    for _ in range(4):
        await poller.tick()
        clock[0] += 1800
    assert await _current_odds(pg) == _memory_odds(poller)
    events = dict(await _rows(pg, "SELECT id, status FROM events"))
    for state in poller.state.values():
        for eid, ev in state.items():
            assert events[eid] == ev["status"]
    leagues = {r[0] for r in await _rows(pg, "SELECT key FROM leagues")}
    assert leagues == set(poller.leagues)
    assert await _rows(pg, "SELECT count(*) FROM sports WHERE american") == [(4,)]
    history = (await _rows(pg, "SELECT count(*), count(*) FILTER (WHERE price IS NULL) FROM odds_history"))[0]
    assert history[0] > len(_memory_odds(poller))  # appended on every change, not just the latest
    finals = await _rows(pg, "SELECT id, home_score, away_score, completed_at FROM events WHERE status = 'final'")
    assert finals and all(r[1] is not None and r[3] is not None for r in finals)
    closed = await _rows(pg, """SELECT count(*) FROM markets m JOIN events e ON e.id = m.event_id
                                WHERE e.status = 'final' AND m.is_open""")
    assert closed == [(0,)]


async def test_sidebar_refresher_refreshes_the_view_after_changes(pg: aiopg.Pool) -> None:
    clock = [1_800_000_000.0]
    poller = _poller(pg, clock)
    assert poller.store is not None
    refresher = SidebarRefresher(poller.store, debounce=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(refresher.run(stop))
    await poller.bootstrap()
    await poller.tick()
    async def listed() -> bool:
        return bool(await _rows(pg, "SELECT 1 FROM sidebar WHERE league = 'basketball_nba'"))

    await wait_for(listed, what="sidebar refresh")
    stop.set()
    await task
    assert refresher.refreshes >= 1


@pytest.fixture
def block_connections(database_url: str) -> Iterator[Any]:
    """Make PostgreSQL refuse this test's database, and kill its open connections (a real outage)."""
    name = urlsplit(database_url).path.lstrip("/")
    admin = database_url.rsplit("/", 1)[0] + "/postgres"

    def run(allow: bool) -> None:
        conn = psycopg2.connect(admin)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS {'true' if allow else 'false'}")
            if not allow:
                cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        conn.close()

    yield run
    run(True)


async def test_postgres_outage_buffers_then_catches_up(pg: aiopg.Pool, block_connections: Any) -> None:
    clock = [1_800_000_000.0]
    poller = _poller(pg, clock)
    await poller.bootstrap()
    await poller.tick()
    block_connections(False)
    for _ in range(6):  # keeps polling; the overflowing buffer forgets history but not the state
        await poller.tick()
        clock[0] += 1800
    assert poller.store is not None and poller.store.down and len(poller.store.queue) <= 3
    assert poller.store.full_sync_needed
    block_connections(True)
    clock[0] += 60
    await poller.tick()
    assert not poller.store.down and not poller.store.queue
    assert await _current_odds(pg) == _memory_odds(poller)


async def test_a_batch_postgres_rejects_is_skipped_not_retried_forever(pg: aiopg.Pool) -> None:
    clock = [1_800_000_000.0]
    poller = _poller(pg, clock)
    await poller.bootstrap()
    await poller.tick()
    store = poller.store
    assert store is not None
    bad = StoreBatch("*", {}, [{"event": "nope", "book": "fanduel", "market": "h2h", "outcome": "X",
                                "price": 150, "point": None, "t": 0}])
    await store.write(bad)  # no such event: a foreign-key violation
    assert not store.queue and not store.down


async def test_a_restart_without_state_takes_stale_games_off_the_board(pg: aiopg.Pool) -> None:
    clock = [1_800_000_000.0]
    first = _poller(pg, clock)
    await first.bootstrap()
    await first.tick()
    await first.tick()
    ghost = "ghost-game"
    async with pg.acquire() as conn, conn.cursor() as cur:
        await cur.execute("""
            INSERT INTO events (id, sport, league, home_team, away_team, commence_time, status)
            VALUES ('ghost-game', 'basketball', 'basketball_nba', 'A', 'B', now() + interval '1 hour', 'upcoming');
            INSERT INTO markets (event_id, market) VALUES ('ghost-game', 'h2h');""")
    second = _poller(pg, clock)  # no Redis: it starts from an empty memory
    await second.bootstrap()
    await second.tick()
    rows = await _rows(pg, "SELECT is_open FROM markets WHERE event_id = %(e)s", {"e": ghost})
    assert rows == [(False,)]
    assert await _current_odds(pg) == _memory_odds(second)
