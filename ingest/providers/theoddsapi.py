"""The Odds API v4 client: quota headers, a daily budget, slow-down, and jittered back-off.

Within one call, 429/5xx/timeouts are retried with jittered exponential delays. Across calls, each
endpoint (path: ``/v4/sports/{league}/events`` is one) that failed waits out its own jittered
exponential back-off before it is called again, so a 404 or an outage is not hammered every tick.
A 401 for the key (not for the quota) stops every call until restart: the key is wrong, and
``ingest_provider_auth_failed`` plus an error log line say so. Credits are reserved before a call is
sent and settled from ``x-requests-last`` after it, so concurrent calls never overshoot the budget.

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

from ingest.metrics import (
    CREDITS_ALLOWANCE,
    CREDITS_REMAINING,
    PROVIDER_AUTH_FAILED,
    PROVIDER_CALLS,
    PROVIDER_CREDITS,
)
from ingest.providers import CallSkipped, ProviderError, odds_cost, scores_cost
from ingest.providers.quota import Quota

log = logging.getLogger(__name__)

RETRY_STATUSES = {429, 500, 502, 503, 504}
GATE_MAX = 600.0  # the longest an endpoint waits between attempts after failures, in seconds


class QuotaExhausted(CallSkipped):
    """The call would exceed today's budget or the plan's remaining credits; nothing was sent."""

    def __init__(self, message: str) -> None:
        super().__init__("quota", message)


class _Gate:
    """One endpoint's back-off after failures: closed until ``until`` (provider clock, seconds)."""

    __slots__ = ("failures", "until", "counted")

    def __init__(self) -> None:
        self.failures = 0
        self.until = 0.0
        self.counted = False


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
        self._gates: dict[str, _Gate] = {}
        self.key_refused = False

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

    def _gate_delay(self, failures: int) -> float:
        """The wait after ``failures`` failed calls in a row: exponential from ``backoff``, jittered."""
        return min(GATE_MAX, self.backoff * (2.0 ** min(failures - 1, 20)) * self._rng.uniform(0.5, 1.5))

    def _check_gate(self, path: str, endpoint: str) -> None:
        if self.key_refused:
            raise CallSkipped("auth", f"{endpoint}: the provider refused the API key; fix it and restart",
                              counted=False)
        gate = self._gates.get(path)
        if gate is not None and self._clock() < gate.until:
            first = not gate.counted
            gate.counted = True
            raise CallSkipped("backoff", f"{endpoint}: backing off after {gate.failures} failure(s)", counted=first)

    def _failed(self, path: str) -> None:
        gate = self._gates.setdefault(path, _Gate())
        gate.failures += 1
        gate.until = self._clock() + self._gate_delay(gate.failures)
        gate.counted = False

    def _export_credits(self) -> None:
        """Publish what the provider's headers say is left (the quota alerts read these)."""
        if self.quota.remaining is not None:
            CREDITS_REMAINING.labels(self.name).set(self.quota.remaining)
        CREDITS_ALLOWANCE.labels(self.name).set(self.quota.allowance())

    def _refuse_key(self, endpoint: str) -> None:
        if not self.key_refused:
            self.key_refused = True
            PROVIDER_AUTH_FAILED.labels(self.name).set(1)
            log.error("provider %s refused the API key (HTTP 401 on %s): no more calls until restart",
                      self.name, endpoint, extra={"fields": {"alert": "provider_auth_failed"}})

    async def _get(self, path: str, params: dict[str, str], cost: int, endpoint: str) -> list[dict[str, Any]]:
        self._check_gate(path, endpoint)
        if cost and not self.quota.reserve(cost):
            PROVIDER_CALLS.labels(self.name, endpoint, "refused").inc()
            raise QuotaExhausted(f"{endpoint}: {cost} credit(s) would exceed the allowance "
                                 f"({self.quota.allowance()} left today)")
        try:
            data = await self._send(path, params, cost, endpoint)
        except ProviderError:
            self._failed(path)
            raise
        self._gates.pop(path, None)
        return data

    async def _send(self, path: str, params: dict[str, str], cost: int, endpoint: str) -> list[dict[str, Any]]:
        """Send with in-call retries. ``cost`` credits are reserved on entry; every attempt settles
        what it cost, and a retry after an attempt that may have been charged reserves again."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        query = {"apiKey": self._key, **params}
        held = cost  # credits reserved and not settled yet
        try:
            for attempt in range(self.retries + 1):
                if attempt and cost and not held:
                    if not self.quota.reserve(cost):
                        raise ProviderError(f"{endpoint}: no credit left to retry")
                    held = cost
                retry_after: str | None = None
                try:
                    async with self._session.get(self.base_url + path, params=query) as resp:
                        if resp.status == 200:
                            self.quota.settle(held, resp.headers, assumed=held)
                            held = 0
                            self._export_credits()
                            PROVIDER_CALLS.labels(self.name, endpoint, "ok").inc()
                            last = self.quota.last
                            PROVIDER_CREDITS.labels(self.name).inc(last if last is not None else cost)
                            data = await resp.json(content_type=None)
                            if not isinstance(data, list):
                                raise ProviderError(f"{endpoint}: expected a JSON list")
                            return data
                        self.quota.record(resp.headers)  # an error answer is not charged (unless it says so)
                        self._export_credits()
                        if resp.status not in RETRY_STATUSES:
                            PROVIDER_CALLS.labels(self.name, endpoint, str(resp.status)).inc()
                            body = (await resp.text())[:200]
                            if resp.status == 401 and "x-requests-remaining" not in resp.headers:
                                self._refuse_key(endpoint)  # no account behind the key: not a used-up quota
                            raise ProviderError(f"{endpoint}: HTTP {resp.status}: {body}")
                        retry_after = resp.headers.get("Retry-After")
                        reason = f"HTTP {resp.status}"
                except (aiohttp.ClientError, TimeoutError) as exc:
                    reason = type(exc).__name__
                    # No answer: the provider may have charged the call, so it counts as spent.
                    self.quota.settle(held, None, assumed=held)
                    held = 0
                PROVIDER_CALLS.labels(self.name, endpoint, "retry").inc()
                if attempt == self.retries:
                    raise ProviderError(f"{endpoint}: gave up after {attempt + 1} attempt(s): {reason}")
                delay = self._delay(attempt, retry_after)
                log.warning("%s failed (%s); retrying in %.2fs", endpoint, reason, delay)
                await asyncio.sleep(delay)
            raise AssertionError("unreachable")
        finally:
            if held:
                self.quota.settle(held, None, assumed=0)  # only error answers: nothing was charged

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
