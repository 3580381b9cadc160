"""Weekly cycle arithmetic (pure): when an agent's week closes, in its own timezone.

A week closes at ``close_time`` on ISO weekday ``close_dow`` (2 = Tuesday, the default; 1 = Monday)
in the agent's timezone. Weeks are computed on local calendar dates and then converted to UTC, so a
week that spans a DST change is 167 or 169 hours long and still closes at the local wall time.

A report day is the agent's business day: local date D runs from D at ``close_time`` to D+1 at
``close_time`` (with the default 00:00, the plain local calendar day). Seven such days, from the
week's first local date, are exactly one settlement cycle, so reports and settlements agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SELECT_SCHEDULE = """
SELECT timezone, close_dow, close_time, reminder_hours, due_days, master_can_write
  FROM agent_settings WHERE agent_id = %(agent_id)s
"""


@dataclass(frozen=True, slots=True)
class Schedule:
    """An agent's weekly cycle settings."""

    timezone: str = "UTC"
    close_dow: int = 2
    close_time: time = time(0, 0)
    reminder_hours: int = 24
    due_days: int = 2
    master_can_write: bool = True

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.timezone)


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; ValueError for an unknown one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {name!r}") from None


def _close_on(day: Any, schedule: Schedule) -> datetime:
    return datetime.combine(day, schedule.close_time, schedule.zone).astimezone(UTC)


def day_start(day: date, schedule: Schedule) -> datetime:
    """When the agent's business day ``day`` begins (UTC): local ``day`` at ``close_time``."""
    return _close_on(day, schedule)


def business_day(at: datetime, schedule: Schedule) -> date:
    """The agent's business day that contains the instant ``at``."""
    day = at.astimezone(schedule.zone).date()
    if day_start(day, schedule) > at:
        return day - timedelta(days=1)
    if day_start(day + timedelta(days=1), schedule) <= at:
        return day + timedelta(days=1)
    return day


def day_bounds(first: date, last: date, schedule: Schedule) -> list[datetime]:
    """The starts of business days ``first`` .. ``last`` (inclusive) and the end of ``last``: n+1 instants."""
    return [day_start(first + timedelta(days=k), schedule) for k in range((last - first).days + 2)]


def week_days(week_start: datetime, week_end: datetime, schedule: Schedule) -> tuple[date, date]:
    """The first and last (inclusive) business days of the cycle [week_start, week_end)."""
    return business_day(week_start, schedule), business_day(week_end, schedule) - timedelta(days=1)


def last_close(now: datetime, schedule: Schedule) -> datetime:
    """The most recent closing instant at or before ``now`` (UTC)."""
    local = now.astimezone(schedule.zone)
    day = local.date() - timedelta(days=(local.isoweekday() - schedule.close_dow) % 7)
    close = _close_on(day, schedule)
    if close > now:
        close = _close_on(day - timedelta(days=7), schedule)
    return close


def shift(close: datetime, schedule: Schedule, weeks: int) -> datetime:
    """The closing instant ``weeks`` weeks after (or before) ``close``, at the same local wall time."""
    local_day = close.astimezone(schedule.zone).date()
    return _close_on(local_day + timedelta(days=7 * weeks), schedule)


def due_at(week_end: datetime, schedule: Schedule) -> datetime:
    """When the settlements of the week ending at ``week_end`` fall due: ``due_days`` later at the
    same local wall time (so a due date seven days on is the next close, across a DST change too)."""
    local_day = week_end.astimezone(schedule.zone).date()
    return _close_on(local_day + timedelta(days=schedule.due_days), schedule)


def week_bounds(now: datetime, schedule: Schedule, *, current: bool = False) -> tuple[datetime, datetime]:
    """[start, end) of the last closed week, or of the running week with ``current=True``."""
    end = last_close(now, schedule)
    if current:
        return end, shift(end, schedule, 1)
    return shift(end, schedule, -1), end


def week_containing(day_start: datetime, schedule: Schedule) -> tuple[datetime, datetime]:
    """[start, end) of the week that contains ``day_start``."""
    start = last_close(day_start, schedule)
    return start, shift(start, schedule, 1)


def reminder_due(now: datetime, schedule: Schedule) -> datetime | None:
    """The closing instant whose reminder is due at ``now`` (within ``reminder_hours`` before it)."""
    upcoming = shift(last_close(now, schedule), schedule, 1)
    if upcoming - timedelta(hours=schedule.reminder_hours) <= now < upcoming:
        return upcoming
    return None


def settlement_state(status: str, due_at: datetime, now: datetime) -> tuple[str, int]:
    """Display state of a settlement (pending, partial, settled or overdue) and its days overdue."""
    if status != "settled" and now > due_at:
        return "overdue", (now - due_at).days + 1
    return status, 0


async def schedule_for(cur: Any, agent_id: int) -> Schedule:
    """The agent's schedule (defaults when it has no settings row)."""
    await cur.execute(SELECT_SCHEDULE, {"agent_id": agent_id})
    row = await cur.fetchone()
    return Schedule() if row is None else Schedule(*row)
