"""Catalog handlers: GET /api/v1/shared/{sports, sports/{sport}/leagues, sidebar},
GET /api/v1/betting/odds and GET /api/v1/betting/events/{event_id}. Every read goes through the
Redis cache (``X-Cache: hit|miss`` says which)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp_apigami import docs, match_info_schema, querystring_schema, response_schema

from restapi.catalog import schemas as s
from restapi.catalog import service
from restapi.catalog.cache import CatalogCache, Invalidator, invalidator_ctx
from restapi.keys import CATALOG_CACHE, PG_READ, REDIS, SETTINGS
from restapi.openapi import PATH, QUERY

routes = web.RouteTableDef()
TAG = ["catalog"]
ERRORS = {404: {"description": "Unknown sport, league or event", "schema": s.ErrorOut},
          422: {"description": "Invalid filter", "schema": s.ErrorOut}}


def _body(body: bytes, hit: bool) -> web.Response:
    return web.Response(body=body, content_type="application/json", headers={"X-Cache": "hit" if hit else "miss"})


def _ttls(app: web.Application) -> dict[str, float]:
    st = app[SETTINGS]
    return {"live": st.cache_ttl_live, "upcoming": st.cache_ttl_upcoming, "scheduled": st.cache_ttl_scheduled,
            "final": st.cache_ttl_scheduled, "cancelled": st.cache_ttl_scheduled}


async def _catalog_read(request: web.Request, endpoint: str, params: dict[str, Any], load: Any) -> web.Response:
    cache = request.app[CATALOG_CACHE]
    key = cache.key(endpoint, cache.generation(None, catalog=True), params)
    body, hit = await cache.get_or_load(endpoint, key, request.app[SETTINGS].cache_ttl_catalog, load)
    return _body(body, hit)


@routes.get("/api/v1/shared/sports")
@docs(tags=TAG, summary="Sports with bettable games",
      description="American sports first (NFL, NBA, MLB, NHL), then by number of games.")
@response_schema(s.SportsOut, 200)
async def get_sports(request: web.Request) -> web.Response:
    pool = request.app[PG_READ]  # public data: the replica when there is one

    async def load() -> dict[str, Any]:
        return {"sports": await service.sports(pool)}

    return await _catalog_read(request, "sports", {}, load)


@routes.get("/api/v1/shared/sports/{sport}/leagues")
@docs(tags=TAG, summary="Bettable leagues of one sport", responses=ERRORS)
@match_info_schema(s.SportPath, put_into=PATH)  # type: ignore[arg-type]
@response_schema(s.LeaguesOut, 200)
async def get_leagues(request: web.Request) -> web.Response:
    pool = request.app[PG_READ]  # public data: the replica when there is one
    sport = request[PATH]["sport"]

    async def load() -> dict[str, Any]:
        return {"sport": sport, "leagues": await service.leagues(pool, sport)}

    return await _catalog_read(request, "leagues", {"sport": sport}, load)


@routes.get("/api/v1/shared/sidebar")
@docs(tags=TAG, summary="Sidebar: sports -> leagues with game counts",
      description="From the `sidebar` materialized view, refreshed by ingest after changes. American first.")
@response_schema(s.SidebarOut, 200)
async def get_sidebar(request: web.Request) -> web.Response:
    pool = request.app[PG_READ]  # public data: the replica when there is one

    async def load() -> dict[str, Any]:
        return {"sports": await service.sidebar(pool)}

    return await _catalog_read(request, "sidebar", {}, load)


@routes.get("/api/v1/betting/odds")
@docs(tags=TAG, summary="Current odds of events, from every book",
      description="Live games first, then by start time. Each price carries its book's `last_update`.",
      responses=ERRORS)
@querystring_schema(s.OddsQuery, put_into=QUERY)  # type: ignore[arg-type]
@response_schema(s.OddsOut, 200)
async def get_odds(request: web.Request) -> web.Response:
    f = request[QUERY]
    pool = request.app[PG_READ]  # public data: the replica when there is one
    cache = request.app[CATALOG_CACHE]
    params = {"sport": f.get("sport"), "league": f.get("league"), "event": f.get("event"),
              "statuses": list(f["statuses"]), "books": list(f["books"]) if f.get("books") else None,
              "limit": f["limit"], "offset": f["offset"]}
    ttls = _ttls(request.app)

    async def load() -> dict[str, Any]:
        return await service.odds_page(pool, sport=params["sport"], league=params["league"], event=params["event"],
                                       statuses=f["statuses"], books=f.get("books"), limit=f["limit"],
                                       offset=f["offset"])

    def ttl(data: dict[str, Any]) -> float:
        present = {ev["status"] for ev in data["events"]} or set(f["statuses"])
        return min(ttls[st] for st in present)

    key = cache.key("odds", cache.generation(params["league"]), params)
    body, hit = await cache.get_or_load("odds", key, ttl, load)
    return _body(body, hit)


@routes.get("/api/v1/betting/events/{event_id}")
@docs(tags=TAG, summary="One event with its odds",
      responses={404: ERRORS[404], 422: {"description": "Not an event id (1-64 of A-Z a-z 0-9 _ -)",
                                         "schema": s.ErrorOut}})
@match_info_schema(s.EventPath, put_into=PATH)  # type: ignore[arg-type]
@response_schema(s.EventOut, 200)
async def get_event(request: web.Request) -> web.Response:
    event_id = request[PATH]["event_id"]
    pool = request.app[PG_READ]  # public data: the replica when there is one
    cache = request.app[CATALOG_CACHE]
    ttls = _ttls(request.app)

    async def load() -> dict[str, Any]:
        return await service.event(pool, event_id)

    key = cache.key("event", cache.generation(None), {"event": event_id})
    body, hit = await cache.get_or_load("event", key, lambda d: ttls[d["status"]], load)
    return _body(body, hit)


def setup(app: web.Application) -> None:
    """Register the catalog routes, the cache and its stream invalidator."""

    async def cache_ctx(app: web.Application) -> Any:
        app[CATALOG_CACHE] = CatalogCache(app[REDIS])
        yield

    app.cleanup_ctx.append(cache_ctx)
    app.cleanup_ctx.append(invalidator_ctx(lambda a: Invalidator(a[CATALOG_CACHE])))
    app.router.add_routes(routes)

