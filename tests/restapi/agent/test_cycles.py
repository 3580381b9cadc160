"""Weekly cycle arithmetic: closing instants in the agent's timezone, DST, reminder windows."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from restapi.agent.cycles import Schedule, last_close, reminder_due, shift, week_bounds
from restapi.agent.settlements import settlement_status


def test_default_week_closes_tuesday_midnight_utc() -> None:
    now = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # a Wednesday
    start, end = week_bounds(now, Schedule())
    assert end == datetime(2026, 11, 24, tzinfo=UTC) and start == datetime(2026, 11, 17, tzinfo=UTC)
    assert week_bounds(now, Schedule(), current=True) == (end, datetime(2026, 12, 1, tzinfo=UTC))
    # Exactly at the close instant, that week has closed.
    assert last_close(datetime(2026, 12, 1, tzinfo=UTC), Schedule()) == datetime(2026, 12, 1, tzinfo=UTC)


def test_monday_close_in_the_agents_timezone_across_dst() -> None:
    s = Schedule(timezone="America/New_York", close_dow=1, close_time=time(6, 0))
    now = datetime(2026, 11, 5, 12, tzinfo=UTC)  # Thursday after the US DST change on Nov 1
    start, end = week_bounds(now, s)
    assert end == datetime(2026, 11, 2, 11, tzinfo=UTC)  # 06:00 EST
    assert start == datetime(2026, 10, 26, 10, tzinfo=UTC)  # 06:00 EDT
    assert end - start == timedelta(hours=169)


def test_reminder_window_is_before_the_close() -> None:
    s = Schedule(reminder_hours=24)
    assert reminder_due(datetime(2026, 11, 30, 23, tzinfo=UTC), s) == datetime(2026, 12, 1, tzinfo=UTC)
    assert reminder_due(datetime(2026, 11, 29, 23, tzinfo=UTC), s) is None


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)),
       st.sampled_from(["UTC", "Europe/London", "America/Los_Angeles", "Asia/Kolkata"]),
       st.integers(1, 7), st.times())
def test_every_instant_falls_in_exactly_one_week(now: datetime, tz: str, dow: int, at: time) -> None:
    s = Schedule(timezone=tz, close_dow=dow, close_time=at)
    start, end = week_bounds(now, s, current=True)
    assert start <= now < end
    assert shift(start, s, 1) == end
    assert timedelta(hours=166) <= end - start <= timedelta(hours=170)
    assert end.astimezone(s.zone).isoweekday() == dow


def test_settlement_status() -> None:
    assert settlement_status(-500, 0) == "pending"
    assert settlement_status(-500, 200) == "partial"
    assert settlement_status(300, 300) == "settled"


def test_missed_closes_catch_up_after_downtime() -> None:
    from restapi.agent.settlements import missed_closes

    now = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    tue = datetime(2026, 11, 24, tzinfo=UTC)
    assert missed_closes(None, now, Schedule()) == [tue]
    assert missed_closes(tue, now, Schedule()) == []
    assert missed_closes(tue - timedelta(days=21), now, Schedule()) == [
        tue - timedelta(days=14), tue - timedelta(days=7), tue]
    assert len(missed_closes(tue - timedelta(days=700), now, Schedule(), limit=12)) == 12
