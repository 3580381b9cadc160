"""Record and replay provider responses.

``Recorder`` wraps any provider and appends every response to ``responses.jsonl`` in a folder, with
the provider's clock and the event ids asked for. ``Replay`` plays such a folder back as a provider:
its clock starts at the first recorded time and runs at ``speed``; each call answers what the
provider said by then (the latest whole-league answer, overlaid with newer answers about some of
its events).
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from ingest.providers import LocalClock, Provider

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

    def _write(self, method: str, league: str, data: list[dict[str, Any]],
               ids: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        self._file.write(orjson.dumps({"t": self.inner.now_ms(), "method": method, "league": league,
                                       "ids": list(ids) if ids else None, "data": data}) + b"\n")
        self._file.flush()
        return data

    async def sports(self) -> list[dict[str, Any]]:
        return self._write("sports", "", await self.inner.sports())

    async def events(self, league: str) -> list[dict[str, Any]]:
        return self._write("events", league, await self.inner.events(league))

    async def odds(self, league: str, markets: tuple[str, ...],
                   event_ids: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        return self._write("odds", league, await self.inner.odds(league, markets, event_ids), event_ids)

    async def scores(self, league: str, event_ids: tuple[str, ...] | None = None,
                     days_from: int | None = None) -> list[dict[str, Any]]:
        return self._write("scores", league, await self.inner.scores(league, event_ids, days_from), event_ids)

    async def close(self) -> None:
        self._file.close()
        await self.inner.close()


class Replay(LocalClock):
    """A provider that plays a recording back at ``speed`` x the recorded pace."""

    name = "replay"

    def __init__(self, folder: Path, speed: float = 1.0, clock: Callable[[], float] = time.time) -> None:
        super().__init__(speed, clock)
        records: dict[tuple[str, str], list[tuple[int, bool, list[dict[str, Any]]]]] = {}
        with (folder / FILE).open("rb") as f:
            for line in f:
                if line.strip():
                    rec = orjson.loads(line)
                    records.setdefault((rec["method"], rec["league"]), []).append(
                        (int(rec["t"]), not rec.get("ids"), rec["data"]))
        for recs in records.values():
            recs.sort(key=lambda r: r[0])  # stable: calls at the same time keep their order
        self._records = records
        self._times = {key: [r[0] for r in recs] for key, recs in records.items()}
        self.start_ms = min((recs[0][0] for recs in records.values()), default=0)

    def _upto(self, method: str, league: str) -> list[tuple[int, bool, list[dict[str, Any]]]]:
        key = (method, league)
        upto = bisect.bisect_right(self._times.get(key, []), self.now_ms())
        return self._records.get(key, [])[:upto]

    def _latest(self, method: str, league: str) -> list[dict[str, Any]]:
        recs = self._upto(method, league)
        if not recs and method == "sports" and self._records.get(("sports", "")):
            recs = self._records[("sports", "")][:1]  # the league list is needed before anything else
        return recs[-1][2] if recs else []

    def _merged(self, method: str, league: str, event_ids: tuple[str, ...] | None) -> list[dict[str, Any]]:
        recs = self._upto(method, league)
        start = 0
        if not event_ids:
            fulls = [i for i, r in enumerate(recs) if r[1]]
            if not fulls:
                return []
            start = fulls[-1]
        latest: dict[str, dict[str, Any]] = {}
        for _t, _full, answer in recs[start:]:
            for item in answer:
                latest[str(item.get("id"))] = item
        if event_ids:
            return [latest[e] for e in event_ids if e in latest]
        return list(latest.values())

    async def sports(self) -> list[dict[str, Any]]:
        return self._latest("sports", "")

    async def events(self, league: str) -> list[dict[str, Any]]:
        return self._latest("events", league)

    async def odds(self, league: str, markets: tuple[str, ...],
                   event_ids: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        return self._merged("odds", league, event_ids)

    async def scores(self, league: str, event_ids: tuple[str, ...] | None = None,
                     days_from: int | None = None) -> list[dict[str, Any]]:
        return self._merged("scores", league, event_ids)
