"""Weekly cycle arithmetic (pure): when an agent's week closes, in its own timezone.

A week closes at ``close_time`` on ISO weekday ``close_dow`` (2 = Tuesday, the default; 1 = Monday)
in the agent's timezone. Weeks are computed on local calendar dates and then converted to UTC, so a
week that spans a DST change is 167 or 169 hours long and still closes at the local wall time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
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
