"""HTTP handlers of ``/api/v1/agent/clients``: thin wrappers over ``restapi.agent.customers``."""

from __future__ import annotations

from aiohttp import web
from aiohttp_apigami import docs, json_schema, querystring_schema, response_schema

from restapi.agent import customers, schemas
from restapi.agent.common import agent_caller
from restapi.betting import schemas as betting_schemas
from restapi.keys import CLOCK, PG, REDIS, SETTINGS
from shared.errors import NotFound
from shared.web import json_response

routes = web.RouteTableDef()
BASE = "/api/v1/agent/clients"


def _player_id(request: web.Request) -> int:
    raw = request.match_info["player_id"]
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound("No such customer in your book", code="customer_not_found")
    return int(raw)


@routes.post(BASE)
@docs(tags=["agent"], summary="Open a customer account (login, password or invite, limits)")
@json_schema(schemas.CustomerCreate, put_into=schemas.BODY)  # type: ignore[arg-type]
async def create_client(request: web.Request) -> web.Response:
    who = await agent_caller(request)
    return json_response(await customers.create(request.app[PG], who.user_id, request[schemas.BODY],
                                                      request.app[CLOCK]()), status=201)


@routes.get(BASE)
@docs(tags=["agent"], summary="List customers: search, filters, sort, cursor pagination")
@querystring_schema(schemas.CustomerListQuery, put_into=schemas.QUERY)  # type: ignore[arg-type]
async def list_clients(request: web.Request) -> web.Response:
    who = await agent_caller(request)
    return json_response(await customers.list_customers(request.app[PG], who.user_id, request[schemas.QUERY]))


@routes.get(BASE + "/{player_id}")
@docs(tags=["agent"], summary="Customer detail: balances, limits, open bets, week figure, transactions")
async def get_client(request: web.Request) -> web.Response:
    who = await agent_caller(request)
    return json_response(await customers.detail(request.app[PG], who.user_id, _player_id(request),
                                                request.app[CLOCK]()))


@routes.get(BASE + "/{player_id}/bets")
@docs(tags=["agent"], summary="A customer's bets with their legs, newest first",
      description="The filters and cursor of the player's own `GET /api/v1/betting/bets`: status, sport or "
                  "league key, placed-at range [from, to).")
@querystring_schema(betting_schemas.HistoryQuery, put_into=schemas.QUERY)  # type: ignore[arg-type]
@response_schema(betting_schemas.HistoryOut, 200)
async def client_bets(request: web.Request) -> web.Response:
    who = await agent_caller(request)
    app = request.app
    return json_response(await customers.bets(app[PG], who.user_id, _player_id(request), request[schemas.QUERY],
                                              app[SETTINGS].betting_page_max))


@routes.patch(BASE + "/{player_id}")
@docs(tags=["agent"], summary="Update limits, contact or notes (audit-logged)")
@json_schema(schemas.CustomerUpdate, put_into=schemas.BODY)  # type: ignore[arg-type]
async def update_client(request: web.Request) -> web.Response:
    who = await agent_caller(request)
    result = await customers.update(request.app[PG], who.user_id, _player_id(request), request[schemas.BODY],
                                    request.app[CLOCK]())
    return json_response(result)


@routes.post(BASE + "/{player_id}/deactivate")
@docs(tags=["agent"], summary="Deactivate: no login, refresh or betting; open sockets are closed")
async def deactivate_client(request: web.Request) -> web.Response:
    who = await agent_caller(request)
    app = request.app
    return json_response(await customers.set_status(app[PG], app[REDIS], who.user_id, _player_id(request),
                                                    "inactive", app[CLOCK]()))


@routes.post(BASE + "/{player_id}/reactivate")
@docs(tags=["agent"], summary="Reactivate a deactivated customer")
async def reactivate_client(request: web.Request) -> web.Response:
    who = await agent_caller(request)
    app = request.app
    return json_response(await customers.set_status(app[PG], app[REDIS], who.user_id, _player_id(request),
                                                    "active", app[CLOCK]()))
