"""Which failures mean "a server we depend on is unreachable", and the 503 a client sees for them.

PostgreSQL restarting, refusing connections or dropping them (SQLSTATE class 08, 57P01-57P03, no
SQLSTATE at all because the server was never reached, aiopg timing out on a connection whose
server vanished or tripping over a closed poll handle while it reconnects) and Redis connection
failures are outages, not bugs: the client gets ``503 database_unavailable`` /
``redis_unavailable`` with ``Retry-After`` and may retry; every other exception stays a logged
``500 internal``.
"""

from __future__ import annotations

import psycopg2
import redis.exceptions as rexc

from shared.errors import Unavailable

DB_RETRY_AFTER = 2
REDIS_RETRY_AFTER = 1


def _from_aiopg(exc: BaseException) -> bool:
    """True when aiopg raised ``exc`` (one of its frames is on the traceback)."""
    tb = exc.__traceback__
    while tb is not None:
        if "/aiopg/" in tb.tb_frame.f_code.co_filename:
            return True
        tb = tb.tb_next
    return False


def _pg_unreachable(exc: BaseException) -> bool:
    if isinstance(exc, psycopg2.InterfaceError):  # "connection already closed"
        return True
    if isinstance(exc, TimeoutError | RuntimeError) and _from_aiopg(exc):
        # aiopg gave up waiting on a connection whose server went away without a word, or, under
        # uvloop, reconnecting right after PostgreSQL restarted met a poll handle of the dead
        # connection's file descriptor ("the handler is closed"); the next attempt works.
        return True
    if not isinstance(exc, psycopg2.OperationalError):
        return False
    code = exc.pgcode
    return code is None or code.startswith("08") or code in ("57P01", "57P02", "57P03")


def outage_error(exc: BaseException) -> Unavailable | None:
    """The 503 for ``exc`` when it means PostgreSQL or Redis is unreachable; None otherwise."""
    if _pg_unreachable(exc):
        return Unavailable("The database is unreachable right now; retry shortly", code="database_unavailable",
                           headers={"Retry-After": str(DB_RETRY_AFTER)},
                           details={"retry_after": DB_RETRY_AFTER})
    if isinstance(exc, rexc.ConnectionError | rexc.TimeoutError):
        return Unavailable("A cache server is unreachable right now; retry shortly", code="redis_unavailable",
                           headers={"Retry-After": str(REDIS_RETRY_AFTER)},
                           details={"retry_after": REDIS_RETRY_AFTER})
    return None
