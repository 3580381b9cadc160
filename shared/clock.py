"""The wall clock as a dependency: code that needs "now" takes a ``Clock`` (or a ``now``) instead
of reading the time itself, so tests pass a fixed instant and pass on any day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current instant, timezone-aware UTC (the production clock)."""
    return datetime.now(UTC)


def fixed(at: datetime) -> Clock:
    """A clock that always answers ``at`` (tests)."""
    return lambda: at
