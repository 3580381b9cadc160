"""Record and replay provider responses.

``Recorder`` wraps any provider and appends every response to ``responses.jsonl`` in a folder, with
the provider's clock. ``Replay`` plays such a folder back as a provider: its clock starts at the
first recorded time and runs at ``speed``; each call answers with the latest recorded response for
the same endpoint and league at or before that time (filtered by event ids when asked).
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from ingest.providers import Provider

FILE = "responses.jsonl"


class Recorder:
    """A provider that records what the wrapped one answers."""

    def __init__(self, inner: Provider, folder: Path) -> None:
        self.inner = inner
        self.name = f"{inner.name}+record"
        folder.mkdir(parents=True, exist_ok=True)
        self._file = (folder / FILE).open("ab")

    def now_ms(self) -> int:
        return self.inner.now_ms()

    def can_spend(self, cost: int) -> bool:
        return self.inner.can_spend(cost)

    def slowdown(self) -> float:
        return self.inner.slowdown()

    def _write(self, method: str, league: str, data: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self._file.write(orjson.dumps({"t": self.inner.now_ms(), "method": method, "league": league,
                                       "data": data}) + b"\n")
        self._file.flush()
        return data

    async def sports(self) -> list[dict[str, Any]]:
        return self._write("sports", "", await self.inner.sports())

    async def events(self, league: str) -> list[dict[str, Any]]:
        return self._write("events", league, await self.inner.events(league))

    async def odds(self, league: str, markets: tuple[str, ...],
                   event_ids: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        return self._write("odds", league, await self.inner.odds(league, markets, event_ids))

    async def scores(self, league: str, event_ids: tuple[str, ...] | None = None,
                     days_from: int | None = None) -> list[dict[str, Any]]:
        return self._write("scores", league, await self.inner.scores(league, event_ids, days_from))

    async def close(self) -> None:
        self._file.close()
        await self.inner.close()


class Replay:
    """A provider that plays a recording back at ``speed`` x the recorded pace."""

    name = "replay"

    def __init__(self, folder: Path, speed: float = 1.0, clock: Callable[[], float] = time.time) -> None:
        self.speed = speed
        self._clock = clock
        self._t0 = clock()
        # (method, league) -> sorted times and their responses
        self._times: dict[tuple[str, str], list[int]] = {}
        self._data: dict[tuple[str, str], list[list[dict[str, Any]]]] = {}
        first: int | None = None
        with (folder / FILE).open("rb") as f:
            for line in f:
                if not line.strip():
                    continue
                rec = orjson.loads(line)
                key = (rec["method"], rec["league"])
                self._times.setdefault(key, []).append(int(rec["t"]))
                self._data.setdefault(key, []).append(rec["data"])
                first = int(rec["t"]) if first is None else min(first, int(rec["t"]))
        for key in self._times:  # recordings are appended in time order; keep them sorted anyway
            order = sorted(range(len(self._times[key])), key=self._times[key].__getitem__)
            self._times[key] = [self._times[key][i] for i in order]
            self._data[key] = [self._data[key][i] for i in order]
        self.start_ms = first or 0

    def now_ms(self) -> int:
        return self.start_ms + int((self._clock() - self._t0) * self.speed * 1000)

    def can_spend(self, cost: int) -> bool:
        return True

    def slowdown(self) -> float:
        return 1.0

    async def close(self) -> None:
        return None

    def _at(self, method: str, league: str) -> list[dict[str, Any]]:
        key = (method, league)
        times = self._times.get(key)
        if not times:
            return []
        i = bisect.bisect_right(times, self.now_ms()) - 1
        return self._data[key][max(i, 0)] if i >= 0 or method == "sports" else []

    async def sports(self) -> list[dict[str, Any]]:
        return self._at("sports", "")

    async def events(self, league: str) -> list[dict[str, Any]]:
        return self._at("events", league)

    def _merged(self, method: str, league: str, event_ids: tuple[str, ...] | None) -> list[dict[str, Any]]:
        """Per event, its latest recorded item up to now (recorded calls may each cover a subset)."""
        key = (method, league)
        times = self._times.get(key, [])
        upto = bisect.bisect_right(times, self.now_ms())
        latest: dict[str, dict[str, Any]] = {}
        for data in self._data.get(key, [])[:upto]:
            for item in data:
                latest[str(item.get("id"))] = item
        if event_ids:
            return [latest[e] for e in event_ids if e in latest]
        listed = {str(e.get("id")) for e in self._at("events", league)}
        return [v for k, v in latest.items() if not listed or k in listed or method == "scores"]

    async def odds(self, league: str, markets: tuple[str, ...],
                   event_ids: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        return self._merged("odds", league, event_ids)

    async def scores(self, league: str, event_ids: tuple[str, ...] | None = None,
                     days_from: int | None = None) -> list[dict[str, Any]]:
        return self._merged("scores", league, event_ids)
