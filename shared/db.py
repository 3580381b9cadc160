"""PostgreSQL pools (aiopg) as `cleanup_ctx` factories, the cursor we type against, and two helpers:
``fetch_one`` for a named query, ``Transaction`` for a transaction sent in two round trips."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from types import TracebackType
from typing import Any, Protocol

import aiopg
import psycopg2
from aiohttp import web


class Cursor(Protocol):
    """What our code uses of an aiopg cursor: typed here so a money path is not typed ``Any``."""

    @property
    def connection(self) -> Any: ...

    @property
    def rowcount(self) -> int: ...

    async def execute(self, operation: str, parameters: Any = None) -> Any: ...

    async def fetchone(self) -> Any: ...

    async def fetchall(self) -> list[Any]: ...

    def mogrify(self, operation: str, parameters: Any = None) -> bytes: ...


Statement = tuple[str, dict[str, Any]]


class Transaction:
    """One transaction in two round trips: ``begin`` sends BEGIN with the first (read) statement,
    ``commit`` sends the writes with COMMIT, each as one message to PostgreSQL.

    Leaving the ``async with`` block without ``commit`` (an error, a refusal, a cancel) rolls back. If a
    statement of the commit message fails, the ones after it (COMMIT included) do not run, and the
    rollback ends the transaction.
    """

    def __init__(self, cur: Cursor) -> None:
        self.cur = cur
        self.done = False

    async def __aenter__(self) -> Transaction:
        return self

    async def begin(self, sql: str, params: dict[str, Any] | None = None) -> None:
        """Open the transaction and run ``sql`` in the same message; read its rows from the cursor."""
        await self.cur.execute("BEGIN;" + sql, params)

    async def commit(self, writes: Iterable[Statement] = ()) -> None:
        """Run ``writes`` (each mogrified client-side) and COMMIT, in one message."""
        await self.cur.execute(b";".join([self.cur.mogrify(sql, params) for sql, params in writes]
                                         + [b"COMMIT"]).decode())
        self.done = True

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if not self.done and not self.cur.connection.closed:
            with contextlib.suppress(psycopg2.Error):
                await self.cur.execute("ROLLBACK")



async def create_pool(dsn: str, minsize: int = 1, maxsize: int = 10) -> aiopg.Pool:
    """Open a pool; statements time out after 30 s so one stuck query cannot hold a connection forever."""
    return await aiopg.create_pool(
        dsn, minsize=minsize, maxsize=maxsize, timeout=30.0, options="-c statement_timeout=30000"
    )


def pg_pool_ctx(
    key: web.AppKey[aiopg.Pool], dsn: str, minsize: int = 1, maxsize: int = 10
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A `cleanup_ctx` that opens the pool under ``key`` and closes it on shutdown."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        pool = await create_pool(dsn, minsize, maxsize)
        app[key] = pool
        try:
            yield
        finally:
            pool.close()
            await pool.wait_closed()

    return ctx


async def fetch_one(pool: aiopg.Pool, sql: str, params: dict[str, Any] | None = None) -> tuple[Any, ...] | None:
    """Run ``sql`` and return its first row (or None)."""
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(sql, params)
        row: tuple[Any, ...] | None = await cur.fetchone()
        return row


async def ping(pool: aiopg.Pool) -> None:
    """Raise unless PostgreSQL answers ``SELECT 1``."""
    await fetch_one(pool, "SELECT 1")
