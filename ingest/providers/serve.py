"""Serve any provider as The Odds API v4 over HTTP (for demos, load tests and client tests).

    python -m ingest.providers.serve --port 8999 [--replay DIR] [--seed 42] [--leagues 110] [--speed 1]

Then ``INGEST_PROVIDER=theoddsapi INGEST_ODDSAPI_URL=http://127.0.0.1:8999 INGEST_ODDSAPI_KEY=any``
runs ingest's real HTTP client against the simulator (or a recording). Paid endpoints answer with
quota headers counted from ``--credits``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import orjson
from aiohttp import web

from ingest.providers import Provider, odds_cost, scores_cost


def create_app(provider: Provider, credits: int = 100_000) -> web.Application:
    """An app answering ``/v4/sports``, ``/v4/sports/{sport}/{events,odds,scores}`` from ``provider``."""
    used = 0

    def reply(data: object, cost: int) -> web.Response:
        nonlocal used
        used += cost
        headers = {"x-requests-remaining": str(max(credits - used, 0)), "x-requests-used": str(used),
                   "x-requests-last": str(cost)}
        return web.Response(body=orjson.dumps(data), content_type="application/json", headers=headers)

    def ids(request: web.Request) -> tuple[str, ...] | None:
        raw = request.query.get("eventIds", "")
        return tuple(x for x in raw.split(",") if x) or None

    async def sports(request: web.Request) -> web.Response:
        return reply(await provider.sports(), 0)

    async def events(request: web.Request) -> web.Response:
        return reply(await provider.events(request.match_info["sport"]), 0)

    async def odds(request: web.Request) -> web.Response:
        markets = tuple(m for m in request.query.get("markets", "h2h").split(",") if m)
        regions = len([r for r in request.query.get("regions", "us").split(",") if r])
        data = await provider.odds(request.match_info["sport"], markets, ids(request))
        return reply(data, odds_cost(markets, regions))

    async def scores(request: web.Request) -> web.Response:
        days = int(request.query["daysFrom"]) if request.query.get("daysFrom", "").isdigit() else None
        return reply(await provider.scores(request.match_info["sport"], ids(request), days), scores_cost(days))

    app = web.Application()
    app.router.add_get("/v4/sports", sports)
    app.router.add_get("/v4/sports/", sports)
    app.router.add_get("/v4/sports/{sport}/events", events)
    app.router.add_get("/v4/sports/{sport}/odds", odds)
    app.router.add_get("/v4/sports/{sport}/scores", scores)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m ingest.providers.serve", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8999)
    parser.add_argument("--replay", type=Path, help="serve this recording instead of the simulator")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--leagues", type=int, default=110)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--credits", type=int, default=100_000)
    args = parser.parse_args()
    from ingest.providers.replay import Replay
    from ingest.providers.simulator import Simulator

    provider: Provider = (Replay(args.replay, args.speed) if args.replay
                          else Simulator(args.seed, args.leagues, speed=args.speed))
    web.run_app(create_app(provider, args.credits), host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
