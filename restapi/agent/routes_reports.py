"""HTTP handlers of agent reports (JSON or streamed CSV), the agent dashboard and GET /api/v1/dashboard.

``from`` and ``to`` are the agent's business days, both inclusive (restapi.agent.cycles); the CSV's
file name carries the asked range and its money is in dollars.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp_apigami import docs, querystring_schema

from restapi.agent import hierarchy, reports, schemas
from restapi.agent.common import Window, agent_caller, now, report_window
from restapi.auth.principal import principal
from restapi.keys import PG, REDIS, SETTINGS
from restapi.openapi import BEARER, answers
from restapi.replica import read_pool
from shared.web import json_response

routes = web.RouteTableDef()
BASE = "/api/v1/agent/reports"


def filename(kind: str, window: Window) -> str:
    """The CSV's name: the report and the asked days, e.g. ``wagerbabe-customers-20261101-20261115.csv``."""
    return f"wagerbabe-{kind}-{window.first:%Y%m%d}-{window.last:%Y%m%d}.csv"


async def _csv_response(request: web.Request, name: str) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": "text/csv; charset=utf-8",
                                       "Content-Disposition": f'attachment; filename="{name}"'})
    await resp.prepare(request)
    return resp


@routes.get(BASE + "/performance")
@docs(tags=["agent"], security=BEARER, responses=answers({200: "OK"}, 403, 404),
      summary="Handle, hold and win/loss by day, sport and bet type (?format=csv)")
@querystring_schema(schemas.ReportQuery, put_into=schemas.QUERY)  # type: ignore[arg-type]
async def performance(request: web.Request) -> web.StreamResponse:
    who = await agent_caller(request)
    query = request[schemas.QUERY]
    window = await report_window(request.app[PG], who.user_id, query, now(request))
    report = await reports.performance(await read_pool(request, who.user_id), who.user_id, window)
    if query["format"] == "json":
        return json_response(report)
    resp = await _csv_response(request, filename("performance", window))
    await resp.write(reports.csv_chunk([reports.PERF_HEADER, *reports.performance_rows(report)]))
    await resp.write_eof()
    return resp


@routes.get(BASE + "/customers")
@docs(tags=["agent"], security=BEARER, responses=answers({200: "OK"}, 403, 404),
      summary="Activity per customer: bets, stake, win/loss, net, cash (streamed; ?format=csv)")
@querystring_schema(schemas.ReportQuery, put_into=schemas.QUERY)  # type: ignore[arg-type]
async def customers(request: web.Request) -> web.StreamResponse:
    who = await agent_caller(request)
    query = request[schemas.QUERY]
    window = await report_window(request.app[PG], who.user_id, query, now(request))
    pages = reports.customer_pages(await read_pool(request, who.user_id), who.user_id, window)
    if query["format"] == "csv":
        resp = await _csv_response(request, filename("customers", window))
        await resp.write(reports.csv_chunk([reports.CUSTOMER_HEADER]))
        async for page in pages:
            await resp.write(reports.csv_chunk(reports.customer_csv(row) for row in page))
    else:
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        await resp.prepare(request)
        head = reports.json_chunk([window.json()], True)
        await resp.write(head[:-1] + b',"items":[')
        first = True
        async for page in pages:
            await resp.write(reports.json_chunk(page, first))
            first = False
        await resp.write(b"]}")
    await resp.write_eof()
    return resp


@routes.get("/api/v1/agent/dashboard")
@docs(tags=["agent"], security=BEARER, responses=answers({200: "OK"}, 403, 404),
      summary="Revenue this/last week, players, open settlements, open risk, exposure by event")
@querystring_schema(schemas.OwnerQuery, put_into=schemas.QUERY)  # type: ignore[arg-type]
async def agent_dashboard(request: web.Request) -> web.Response:
    who = await agent_caller(request)
    app = request.app
    data = await reports.agent_dashboard(await read_pool(request, who.user_id), app[REDIS], who.user_id,
                                         app[SETTINGS].agent_dashboard_ttl,
                                         now(request), request[schemas.QUERY].get("agent_id"))
    return json_response({"role": who.role, **data})


@routes.get("/api/v1/dashboard")
@docs(tags=["dashboard"], security=BEARER, responses=answers({200: "OK"}),
      summary="Role-based: a player's balance/open bets/figure, or the agent dashboard")
async def dashboard(request: web.Request) -> web.Response:
    who = await principal(request)
    app = request.app
    if who.role == "player":
        pool = await read_pool(request, who.user_id)
        return json_response(await reports.player_dashboard(pool, who.user_id, now(request)))
    data = await reports.agent_dashboard(await read_pool(request, who.user_id), app[REDIS], who.user_id,
                                         app[SETTINGS].agent_dashboard_ttl,
                                         now(request))
    return json_response({"role": who.role, **data})


@routes.get("/api/v1/agent/agents")
@docs(tags=["agent"], security=BEARER, responses=answers({200: "OK"}, 403),
      summary="The caller's agent tree: each agent's players, week net, open risk, settlements")
async def agents(request: web.Request) -> web.Response:
    who = await agent_caller(request)
    return json_response(await hierarchy.tree(request.app[PG], who.user_id, now(request)))
