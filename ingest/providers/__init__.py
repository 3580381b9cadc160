"""Odds providers behind one interface (``Provider``): The Odds API v4, the simulator, replay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class ProviderError(RuntimeError):
    """A provider call failed for good (after retries, or a non-retryable status)."""


class CallSkipped(ProviderError):
    """A call was not sent: ``reason`` is ``quota`` (over budget), ``backoff`` (the endpoint failed
    recently) or ``auth`` (the provider refused the key); ``counted`` tells whether this skip is a new
    one for ``ingest_calls_skipped_total`` (a back-off window counts once, however many ticks hit it)."""

    def __init__(self, reason: str, message: str, *, counted: bool = True) -> None:
        super().__init__(message)
        self.reason = reason
        self.counted = counted


class Provider(Protocol):
    """Speaks The Odds API v4 shapes; ``sports`` and ``events`` are free, ``odds`` and ``scores`` cost."""

    name: str

    def now_ms(self) -> int:
        """The provider's clock (the simulator and replay keep their own)."""
        ...

    def can_spend(self, cost: int) -> bool:
        """Whether a call costing ``cost`` credits fits the quota."""
        ...

    def slowdown(self) -> float:
        """Factor (>= 1) to stretch poll intervals by as the quota runs low."""
        ...

    async def sports(self) -> list[dict[str, Any]]:
        """The leagues the provider offers (``/v4/sports``; free)."""
        ...

    async def events(self, league: str) -> list[dict[str, Any]]:
        """The league's games, live and upcoming, without odds (``/events``; free)."""
        ...

    async def odds(self, league: str, markets: tuple[str, ...],
                   event_ids: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        """Games with every book's prices (``/odds``; costs markets x regions)."""
        ...

    async def scores(self, league: str, event_ids: tuple[str, ...] | None = None,
                     days_from: int | None = None) -> list[dict[str, Any]]:
        """Live and (with ``days_from``) completed games' scores (``/scores``; costs 1 or 2)."""
        ...

    async def close(self) -> None:
        """Release connections and files."""
        ...


class LocalClock:
    """The clock and unlimited budget of a provider that runs in-process (simulator, replay).

    Provider time starts at ``start_ms`` and runs at ``speed`` times the real ``clock``; there is no
    quota, so every call may spend and polling never slows down.
    """

    start_ms: int

    def __init__(self, speed: float, clock: Callable[[], float]) -> None:
        self.speed = speed
        self._clock = clock
        self._t0 = clock()

    def now_ms(self) -> int:
        return self.start_ms + int((self._clock() - self._t0) * self.speed * 1000)

    def can_spend(self, cost: int) -> bool:
        return True

    def slowdown(self) -> float:
        return 1.0

    async def close(self) -> None:
        return None


def odds_cost(markets: tuple[str, ...], regions: int = 1) -> int:
    """Credits an ``/odds`` call costs: markets x regions."""
    return max(1, len(markets)) * max(1, regions)


def scores_cost(days_from: int | None) -> int:
    """Credits a ``/scores`` call costs: 2 with ``daysFrom``, else 1."""
    return 2 if days_from else 1
