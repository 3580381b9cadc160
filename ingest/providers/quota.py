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
    reserved: int = 0  # credits of calls in flight: taken before sending, settled from the answer
    day: int = field(default=-1)

    def _roll(self) -> None:
        today = int(self.clock() // 86400)
        if today != self.day:
            self.day, self.spent_today = today, 0

    def reserve(self, cost: int) -> bool:
        """Take ``cost`` credits for a call about to be sent; False (nothing taken) if they do not fit.

        Checking and taking happen in one step with no await between, so concurrent calls can never
        all pass the check and together overspend the budget."""
        if cost > self.allowance():
            return False
        self.reserved += cost
        return True

    def settle(self, cost: int, headers: Mapping[str, str] | None, assumed: int) -> None:
        """Replace a reservation of ``cost`` by what the call cost: ``x-requests-last`` when the answer
        has it, else ``assumed`` (the full cost for an answer with data or no answer at all, since the
        provider may have charged a call that timed out; 0 for an error answer)."""
        self.reserved = max(0, self.reserved - cost)
        if headers is None or _int(headers, "x-requests-last") is None:
            self._roll()
            self.spent_today += assumed
        if headers is not None:
            self.record(headers)

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
        left = self.daily_budget - self.spent_today - self.reserved
        if self.remaining is not None:
            left = min(left, self.remaining - self.reserved)
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
