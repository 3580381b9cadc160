"""A local HTTP server speaking The Odds API v4 from fixture files (our own, modelled on its docs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

FIXTURES = Path(__file__).parent / "fixtures" / "theoddsapi"
KEY = "test-key-not-secret"


@dataclass
class FakeOddsApi:
    """State the tests steer: commence times, failures to serve first, and the credit counter."""

    remaining: int = 500
    used: int = 0
    commence: dict[str, str] = field(default_factory=dict)
    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    completed: bool = True
    extra_sports: list[dict[str, Any]] = field(default_factory=list)
    missing: set[str] = field(default_factory=set)  # paths answered 404 (a league the plan lost)
    no_scores: set[str] = field(default_factory=set)  # events the feed has no score for
    finished: set[str] = field(default_factory=set)  # events reported completed whatever the fixture says

    def paid(self, path: str) -> list[str]:
        return [p for p, _ in self.requests if p.endswith(("/odds", "/scores"))]

    def _load(self, name: str) -> list[dict[str, Any]]:
        path = FIXTURES / name
        data: list[dict[str, Any]] = orjson.loads(path.read_bytes()) if path.exists() else []
        for item in data:
            if item.get("id") in self.commence:
                item["commence_time"] = self.commence[item["id"]]
            if "completed" in item and not self.completed:
                item["completed"] = False
            if item.get("id") in self.no_scores:
                item["scores"], item["completed"] = None, False
            if "completed" in item and item.get("id") in self.finished:
                item["completed"] = True
        return data

    async def handle(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.requests.append((request.path, query))
        if query.get("apiKey") != KEY:
            return web.json_response({"message": "API key is not valid"}, status=401)
        if request.path in self.missing:
            return web.json_response({"message": "Unknown sport"}, status=404)
        if self.failures:
            status, headers = self.failures.pop(0)
            return web.json_response({"message": "slow down"}, status=status, headers=headers)
        parts = request.path.strip("/").split("/")  # v4, sports[, sport, endpoint]
        cost = 0
        if len(parts) == 2:
            data = self._load("sports.json") + self.extra_sports
        else:
            sport, endpoint = parts[2], parts[3]
            data = self._load(f"{endpoint}_{sport}.json")
            if endpoint == "odds":
                cost = len(query.get("markets", "h2h").split(",")) * len(query.get("regions", "us").split(","))
                if query.get("oddsFormat") != "american":
                    return web.json_response({"message": "expected american odds"}, status=422)
                wanted = set(filter(None, query.get("eventIds", "").split(",")))
                data = [d for d in data if not wanted or d["id"] in wanted]
            elif endpoint == "scores":
                cost = 2 if query.get("daysFrom") else 1
        if cost > self.remaining:
            return web.json_response({"message": "quota exhausted"}, status=401,
                                     headers={"x-requests-remaining": str(self.remaining)})
        self.remaining -= cost
        self.used += cost
        headers = {"x-requests-remaining": str(self.remaining), "x-requests-used": str(self.used),
                   "x-requests-last": str(cost)}
        return web.Response(body=orjson.dumps(data), content_type="application/json", headers=headers)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v4/sports", self.handle)
        app.router.add_get("/v4/sports/", self.handle)
        app.router.add_get("/v4/sports/{sport}/{endpoint}", self.handle)
        return app
