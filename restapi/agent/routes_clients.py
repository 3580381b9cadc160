"""HTTP handlers of ``/api/v1/agent/clients``: thin wrappers over ``restapi.agent.customers``."""

from __future__ import annotations

from aiohttp import web
from aiohttp_apigami import docs, json_schema, querystring_schema, response_schema

from restapi.agent import customers, schemas
from restapi.agent.common import agent_caller
from restapi.betting import schemas as betting_schemas
from restapi.keys import CLOCK, PG, REDIS, SETTINGS
from restapi.openapi import BEARER, answers
from shared.web import json_response, path_id

routes = web.RouteTableDef()
BASE = "/api/v1/agent/clients"


def _player_id(request: web.Request) -> int:
    return path_id(request, "player_id", "No such customer in your book", "customer_not_found")


@routes.post(BASE)
@docs(tags=["agent"], security=BEARER, responses=answers({201: "Created"}, 403, 404, 409),
      summary="Open a customer account (login, password or invite, limits)")
@json_schema(schemas.CustomerCreate, put_into=schemas.BODY)  # type: ignore[arg-type]
async def create_client(request: web.Request) -> web.Response:
    who = await agent_caller(request)
    return json_response(await customers.create(request.app[PG], who.user_id, request[schemas.BODY],
                                                      request.app[CLOCK]()), status=201)


@routes.get(BASE)
@docs(tags=["agent"], security=BEARER, responses=answers({200: "OK"}, 403),
      summary="List customers: search, filters, sort, cursor pagination")
@querystring_schema(schemas.CustomerListQuery, put_into=schemas.QUERY)  # type: ignore[arg-type]
async def list_clients(request: web.Request) -> web.Response:
    who = await agent_caller(request)
    return json_response(await customers.list_customers(request.app[PG], who.user_id, request[schemas.QUERY]))


@routes.get(BASE + "/{player_id}")
@docs(tags=["agent"], security=BEARER, responses=answers({200: "OK"}, 403, 404),
      summary="Customer detail: balances, limits, open bets, week figure, transactions")
async def get_client(request: web.Request) -> web.Response:
    who = await agent_caller(request)
    return json_response(await customers.detail(request.app[PG], who.user_id, _player_id(request),
                                                request.app[CLOCK]()))


@routes.get(BASE + "/{player_id}/bets")
@docs(tags=["agent"], security=BEARER, responses=answers({}, 403, 404),
      summary="A customer's bets with their legs, newest first",
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
@docs(tags=["agent"], security=BEARER, responses=answers({200: "OK"}, 403, 404, 409),
      summary="Update limits, contact or notes (audit-logged)")
@json_schema(schemas.CustomerUpdate, put_into=schemas.BODY)  # type: ignore[arg-type]
async def update_client(request: web.Request) -> web.Response:
    who = await agent_caller(request)
    result = await customers.update(request.app[PG], who.user_id, _player_id(request), request[schemas.BODY],
                                    request.app[CLOCK]())
    return json_response(result)


@routes.post(BASE + "/{player_id}/deactivate")
@docs(tags=["agent"], security=BEARER, responses=answers({200: "OK"}, 403, 404, 409),
      summary="Deactivate: no login, refresh or betting; open sockets are closed")
async def deactivate_client(request: web.Request) -> web.Response:
    who = await agent_caller(request)
    app = request.app
    return json_response(await customers.set_status(app[PG], app[REDIS], who.user_id, _player_id(request),
                                                    "inactive", app[CLOCK]()))


@routes.post(BASE + "/{player_id}/reactivate")
@docs(tags=["agent"], security=BEARER, responses=answers({200: "OK"}, 403, 404, 409),
      summary="Reactivate a deactivated customer")
async def reactivate_client(request: web.Request) -> web.Response:
    who = await agent_caller(request)
    app = request.app
    return json_response(await customers.set_status(app[PG], app[REDIS], who.user_id, _player_id(request),
                                                    "active", app[CLOCK]()))
