"""The Odds API v4 client: quota headers, a daily budget, slow-down, and jittered back-off on 429/5xx.

Free endpoints (``/v4/sports``, ``/v4/sports/{sport}/events``) are used to find out whether a league
has games in the window before any credit is spent on ``/odds`` or ``/scores``. The API key is a
query parameter, so URLs are never logged.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from ingest.metrics import CREDITS_ALLOWANCE, CREDITS_REMAINING, PROVIDER_CALLS, PROVIDER_CREDITS
from ingest.providers import ProviderError, odds_cost, scores_cost
from ingest.providers.quota import Quota

log = logging.getLogger(__name__)

RETRY_STATUSES = {429, 500, 502, 503, 504}


class QuotaExhausted(ProviderError):
    """The call would exceed today's budget or the plan's remaining credits; nothing was sent."""


class TheOddsApi:
    """One provider instance per daemon; owns an aiohttp session."""

    name = "theoddsapi"

    def __init__(self, base_url: str, api_key: str, *, regions: str = "us", daily_budget: int = 500,
                 retries: int = 4, backoff: float = 1.0, timeout: float = 15.0,
                 rng: random.Random | None = None, clock: Callable[[], float] = time.time) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = api_key
        self.regions = regions
        self._clock = clock
        self.quota = Quota(daily_budget, clock)
        self.retries = retries
        self.backoff = backoff
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._rng = rng or random.Random()
        self._session: aiohttp.ClientSession | None = None

    def now_ms(self) -> int:
        return int(self._clock() * 1000)

    def can_spend(self, cost: int) -> bool:
        return self.quota.can_spend(cost)

    def slowdown(self) -> float:
        return self.quota.slowdown()

    @property
    def region_count(self) -> int:
        return len([r for r in self.regions.split(",") if r.strip()])

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        """Exponential back-off with full jitter; a Retry-After header is a floor."""
        delay: float = self.backoff * (2.0 ** attempt) * self._rng.uniform(0.5, 1.5)
        if retry_after:
            try:
                delay = max(delay, float(retry_after))
            except ValueError:
                pass
        return min(delay, 300.0)

    async def _get(self, path: str, params: dict[str, str], cost: int, endpoint: str) -> list[dict[str, Any]]:
        if cost and not self.quota.can_spend(cost):
            PROVIDER_CALLS.labels(self.name, endpoint, "refused").inc()
            raise QuotaExhausted(f"{endpoint}: {cost} credit(s) would exceed the allowance "
                                 f"({self.quota.allowance()} left today)")
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        query = {"apiKey": self._key, **params}
        for attempt in range(self.retries + 1):
            retry_after: str | None = None
            try:
                async with self._session.get(self.base_url + path, params=query) as resp:
                    self.quota.record(resp.headers)
                    if self.quota.remaining is not None:
                        CREDITS_REMAINING.labels(self.name).set(self.quota.remaining)
                    CREDITS_ALLOWANCE.labels(self.name).set(self.quota.allowance())
                    if resp.status == 200:
                        PROVIDER_CALLS.labels(self.name, endpoint, "ok").inc()
                        last = self.quota.last
                        PROVIDER_CREDITS.labels(self.name).inc(last if last is not None else cost)
                        data = await resp.json(content_type=None)
                        if not isinstance(data, list):
                            raise ProviderError(f"{endpoint}: expected a JSON list")
                        return data
                    if resp.status not in RETRY_STATUSES:
                        PROVIDER_CALLS.labels(self.name, endpoint, str(resp.status)).inc()
                        body = (await resp.text())[:200]
                        raise ProviderError(f"{endpoint}: HTTP {resp.status}: {body}")
                    retry_after = resp.headers.get("Retry-After")
                    reason = f"HTTP {resp.status}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                reason = type(exc).__name__
            PROVIDER_CALLS.labels(self.name, endpoint, "retry").inc()
            if attempt == self.retries:
                raise ProviderError(f"{endpoint}: gave up after {attempt + 1} attempt(s): {reason}")
            delay = self._delay(attempt, retry_after)
            log.warning("%s failed (%s); retrying in %.2fs", endpoint, reason, delay)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def sports(self) -> list[dict[str, Any]]:
        return await self._get("/v4/sports", {}, 0, "sports")

    async def events(self, league: str) -> list[dict[str, Any]]:
        return await self._get(f"/v4/sports/{league}/events", {"dateFormat": "iso"}, 0, "events")

    async def odds(self, league: str, markets: tuple[str, ...],
                   event_ids: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        params = {"regions": self.regions, "markets": ",".join(markets), "oddsFormat": "american",
                  "dateFormat": "iso"}
        if event_ids:
            params["eventIds"] = ",".join(event_ids)
        return await self._get(f"/v4/sports/{league}/odds", params, odds_cost(markets, self.region_count), "odds")

    async def scores(self, league: str, event_ids: tuple[str, ...] | None = None,
                     days_from: int | None = None) -> list[dict[str, Any]]:
        params = {"dateFormat": "iso"}
        if days_from:
            params["daysFrom"] = str(days_from)
        if event_ids:
            params["eventIds"] = ",".join(event_ids)
        return await self._get(f"/v4/sports/{league}/scores", params, scores_cost(days_from), "scores")
