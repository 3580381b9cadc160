"""What every agent route shares: the caller check, scoped customer look-ups, cursors, date ranges.

Scoping is done in SQL: every customer query joins ``agent_scope(viewer)`` (the viewer's own book
plus the books of its sub-agents; every book for an admin), so a customer outside the caller's tree
is simply not found (404). A master may write to a sub-agent's book unless its
``agent_settings.master_can_write`` is false (then 403).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import aiopg
import orjson
from aiohttp import web

from restapi.agent import queries as q
from restapi.agent.cycles import Schedule, business_day, day_bounds, day_start, schedule_for
from restapi.auth.principal import Principal, require_role
from restapi.keys import CLOCK
from shared import streams
from shared.errors import BadRequest, Conflict, Forbidden, NotFound, ValidationFailed

MAX_RANGE_DAYS = 366
push = streams.notify  # a private ``user`` event for pushd


async def agent_caller(request: web.Request) -> Principal:
    """The caller, who must be an agent or an admin (checked on every request)."""
    return await require_role(request, "agent", "admin")


async def scoped_customer(cur: Any, viewer: int, player_id: int, *, write: bool = False,
                          lock: bool = False, active: bool = False) -> dict[str, Any]:
    """The player ``player_id`` if it is in ``viewer``'s tree: 404 outside it, 403 when read-only.

    ``lock`` takes the row lock (inside a transaction); ``active`` refuses a deactivated customer.
    """
    await cur.execute(q.SCOPED_CUSTOMER_LOCK if lock else q.SCOPED_CUSTOMER,
                      {"viewer": viewer, "player_id": player_id})
    row = await cur.fetchone()
    if row is None:
        raise NotFound("No such customer in your book", code="customer_not_found",
                       details={"player_id": player_id})
    customer = dict(zip(q.CUSTOMER_COLUMNS, row, strict=True))
    if write and not customer.pop("writable"):
        raise Forbidden("This customer belongs to a sub-agent's book you may only read", code="read_only")
    customer.pop("writable", None)
    if active and customer["status"] != "active":
        raise Conflict("The customer is deactivated", code="account_inactive", details={"player_id": player_id})
    return customer


def idempotency_key(request: web.Request) -> str:
    """The request's Idempotency-Key header (required: 1-100 printable characters)."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > 100 or not key.isprintable():
        raise BadRequest("Send an Idempotency-Key header (1-100 characters) with every cashier move",
                         code="idempotency_key_required")
    return key


def encode_cursor(values: list[Any]) -> str:
    """An opaque cursor for keyset pagination."""
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


def decode_cursor(cursor: str | None, kinds: tuple[str, ...]) -> list[Any] | None:
    """The values of a cursor from ``encode_cursor``, checked against ``kinds`` ("id", "int", "text",
    "time"); 422 when it was not made by us, so a tampered cursor never reaches the SQL casts."""
    if not cursor:
        return None
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != len(kinds) or not all(
            _cursor_value_ok(v, k) for v, k in zip(values, kinds, strict=True)):
        raise ValidationFailed("Invalid cursor", details={"cursor": ["not a cursor this endpoint returned"]})
    return values


def _cursor_value_ok(value: Any, kind: str) -> bool:
    if kind in ("id", "int"):
        low = 0 if kind == "id" else -(2**63)
        return isinstance(value, int) and not isinstance(value, bool) and low <= value < 2**63
    if not isinstance(value, str) or len(value) > 300:
        return False
    if kind == "time":
        try:
            return datetime.fromisoformat(value).tzinfo is not None
        except ValueError:
            return False
    return True


def day_range(first: date | None, last: date | None, today: date, *,
              default_days: int = 7) -> tuple[date, date]:
    """The asked business days ``first`` .. ``last``, both inclusive (defaults: the ``default_days``
    ending ``today``); 422 in plain words when reversed or longer than a year."""
    last = last or today
    first = first or last - timedelta(days=default_days - 1)
    if last < first:
        raise ValidationFailed("The end date is before the start date",
                               details={"to": ["pick a date on or after the start date"]})
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise ValidationFailed("The range is longer than a year",
                               details={"to": [f"pick at most {MAX_RANGE_DAYS} days"]})
    return first, last


@dataclass(frozen=True, slots=True)
class Window:
    """A report's inclusive business days and the instants they cover, in one agent's time zone."""

    first: date
    last: date
    schedule: Schedule
    owner: int | None

    @property
    def starts_at(self) -> datetime:
        return day_start(self.first, self.schedule)

    @property
    def ends_at(self) -> datetime:
        return day_start(self.last + timedelta(days=1), self.schedule)

    @property
    def bounds(self) -> list[datetime]:
        """Each day's start and the last day's end (n+1 instants), for grouping by day."""
        return day_bounds(self.first, self.last, self.schedule)

    def json(self) -> dict[str, Any]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat(), "timezone": self.schedule.timezone,
                "day_starts_at": self.schedule.close_time.isoformat(timespec="minutes"),
                "starts_at": iso(self.starts_at), "ends_at": iso(self.ends_at), "agent_id": self.owner}


async def owner_schedule(cur: Any, viewer: int, owner: int | None) -> Schedule:
    """The schedule whose days a report uses: the owner filter's agent (404 outside the viewer's tree)
    or else the viewer's own."""
    if owner is not None:
        await cur.execute(q.SCOPED_AGENT, {"viewer": viewer, "agent_id": owner})
        if await cur.fetchone() is None:
            raise NotFound("No such agent in your book", code="agent_not_found", details={"agent_id": owner})
    return await schedule_for(cur, owner or viewer)


async def report_window(pool: aiopg.Pool, viewer: int, query: dict[str, Any], now: datetime, *,
                        default_days: int = 30) -> Window:
    """The window of ``query``'s ``from``/``to``/``agent_id`` in the owner's (or viewer's) time zone."""
    owner = query.get("agent_id")
    async with pool.acquire() as conn, conn.cursor() as cur:
        schedule = await owner_schedule(cur, viewer, owner)
    first, last = day_range(query.get("from_"), query.get("to"), business_day(now, schedule),
                            default_days=default_days)
    return Window(first, last, schedule, owner)


def now(request: web.Request) -> datetime:
    """The app's clock (``restapi.keys.CLOCK``): the wall clock, or a fixed instant under test."""
    return request.app[CLOCK]()


def usd(cents: int) -> str:
    """Cents as a person reads them: 123456 -> "$1,234.56", -50 -> "-$0.50"."""
    return f"{'-' if cents < 0 else ''}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"


def iso(value: datetime | date | None) -> str | None:
    """ISO 8601 text of a timestamp or date (None stays None)."""
    return None if value is None else value.isoformat()
