"""HTTP handlers of agent reports (JSON or streamed CSV), the agent dashboard and GET /api/v1/dashboard."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from aiohttp_apigami import docs, querystring_schema

from restapi.agent import reports, schemas
from restapi.agent.common import agent_caller, date_range
from restapi.agent.queries_reports import CUSTOMER_ACTIVITY_COLUMNS
from restapi.auth.principal import principal
from restapi.keys import CLOCK, PG, REDIS, SETTINGS
from shared.web import json_response

routes = web.RouteTableDef()
BASE = "/api/v1/agent/reports"


def _filename(kind: str, start: datetime, end: datetime) -> str:
    return f"wagerbabe-{kind}-{start:%Y%m%d}-{end:%Y%m%d}.csv"


async def _csv_response(request: web.Request, filename: str) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": "text/csv; charset=utf-8",
                                       "Content-Disposition": f'attachment; filename="{filename}"'})
    await resp.prepare(request)
    return resp


@routes.get(BASE + "/performance")
@docs(tags=["agent"], summary="Handle, hold and win/loss by day, sport and bet type (?format=csv)")
@querystring_schema(schemas.ReportQuery, put_into=schemas.QUERY)  # type: ignore[arg-type]
async def performance(request: web.Request) -> web.StreamResponse:
    who = await agent_caller(request)
    query = request[schemas.QUERY]
    start, end = date_range(query.get("from_"), query.get("to"), today=request.app[CLOCK]().date(), default_days=30)
    report = await reports.performance(request.app[PG], who.user_id, start, end)
    if query["format"] == "json":
        return json_response(report)
    resp = await _csv_response(request, _filename("performance", start, end))
    await resp.write(reports.csv_chunk([reports.PERF_HEADER, *reports.performance_rows(report)]))
    await resp.write_eof()
    return resp


@routes.get(BASE + "/customers")
@docs(tags=["agent"], summary="Activity per customer: bets, stake, win/loss, last active (streamed; ?format=csv)")
@querystring_schema(schemas.ReportQuery, put_into=schemas.QUERY)  # type: ignore[arg-type]
async def customers(request: web.Request) -> web.StreamResponse:
    who = await agent_caller(request)
    query = request[schemas.QUERY]
    start, end = date_range(query.get("from_"), query.get("to"), today=request.app[CLOCK]().date(), default_days=30)
    pages = reports.customer_pages(request.app[PG], who.user_id, start, end)
    if query["format"] == "csv":
        resp = await _csv_response(request, _filename("customers", start, end))
        await resp.write(reports.csv_chunk([CUSTOMER_ACTIVITY_COLUMNS]))
        async for page in pages:
            await resp.write(reports.csv_chunk([list(row.values()) for row in page]))
    else:
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        await resp.prepare(request)
        await resp.write(b'{"from":"%s","to":"%s","items":[' % (start.isoformat().encode(), end.isoformat().encode()))
        first = True
        async for page in pages:
            await resp.write(reports.json_chunk(page, first))
            first = False
        await resp.write(b"]}")
    await resp.write_eof()
    return resp


@routes.get("/api/v1/agent/dashboard")
@docs(tags=["agent"], summary="Revenue this/last week, active and online players, settlements, exposure")
async def agent_dashboard(request: web.Request) -> web.Response:
    who = await agent_caller(request)
    app = request.app
    data = await reports.agent_dashboard(app[PG], app[REDIS], who.user_id, app[SETTINGS].agent_dashboard_ttl,
                                         app[CLOCK]())
    return json_response({"role": who.role, **data})


@routes.get("/api/v1/dashboard")
@docs(tags=["dashboard"], summary="Role-based: a player's balance/open bets/figure, or the agent dashboard")
async def dashboard(request: web.Request) -> web.Response:
    who = await principal(request)
    app = request.app
    if who.role == "player":
        return json_response(await reports.player_dashboard(app[PG], who.user_id, app[CLOCK]()))
    data = await reports.agent_dashboard(app[PG], app[REDIS], who.user_id, app[SETTINGS].agent_dashboard_ttl,
                                         app[CLOCK]())
    return json_response({"role": who.role, **data})
