"""The Odds API credit accounting: quota headers, a per-UTC-day budget and a slow-down factor (pure)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


def _int(headers: Mapping[str, str], name: str) -> int | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        return int(float(raw))
    except ValueError:
        return None


@dataclass(slots=True)
class Quota:
    """Tracks credits from ``x-requests-remaining/used/last`` against ``daily_budget``."""

    daily_budget: int
    clock: Callable[[], float] = time.time
    remaining: int | None = None  # what the provider says is left (the plan's period)
    used: int | None = None
    last: int | None = None
    spent_today: int = 0
    day: int = field(default=-1)

    def _roll(self) -> None:
        today = int(self.clock() // 86400)
        if today != self.day:
            self.day, self.spent_today = today, 0

    def record(self, headers: Mapping[str, str]) -> None:
        """Account for one response's quota headers."""
        self._roll()
        last = _int(headers, "x-requests-last")
        remaining = _int(headers, "x-requests-remaining")
        used = _int(headers, "x-requests-used")
        if last is not None:
            self.last = last
            self.spent_today += max(last, 0)
        if remaining is not None:
            self.remaining = remaining
        if used is not None:
            self.used = used

    def allowance(self) -> int:
        """Credits that may still be spent today."""
        self._roll()
        left = self.daily_budget - self.spent_today
        if self.remaining is not None:
            left = min(left, self.remaining)
        return max(left, 0)

    def can_spend(self, cost: int) -> bool:
        """Whether ``cost`` credits fit today's allowance."""
        return cost <= self.allowance()

    def slowdown(self) -> float:
        """1 while over half the day's budget is left, growing to 8 as it runs out."""
        if self.daily_budget <= 0:
            return 8.0
        frac = self.allowance() / self.daily_budget
        if frac >= 0.5:
            return 1.0
        if frac <= 0.0625:
            return 8.0
        return min(8.0, 0.5 / frac)
