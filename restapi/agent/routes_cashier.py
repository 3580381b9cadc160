"""HTTP handlers of ``/api/v1/agent/cashier``: balances, credit, debit, transactions, summary."""

from __future__ import annotations

from aiohttp import web
from aiohttp_apigami import docs, json_schema, querystring_schema

from restapi.agent import cashier, schemas
from restapi.agent.common import agent_caller, idempotency_key, now, report_window
from restapi.keys import PG, REDIS
from restapi.openapi import BEARER, answers
from shared.web import json_response

routes = web.RouteTableDef()
BASE = "/api/v1/agent/cashier"
MOVE_ANSWERS = answers({201: "Booked", 200: "Replay of the first answer to this Idempotency-Key"}, 403, 404, 409)


async def _move(request: web.Request, direction: str) -> web.Response:
    who = await agent_caller(request)
    key = idempotency_key(request)
    status, body = await cashier.move(request.app[PG], request.app[REDIS], who.user_id, direction,
                                      request[schemas.BODY], key, now(request))
    return json_response(body, status=status)


@routes.post(BASE + "/credit")
@docs(tags=["agent"], security=BEARER, responses=MOVE_ANSWERS,
      summary="Credit a customer (deposit, adjustment, free play, settlement)",
      parameters=[{"in": "header", "name": "Idempotency-Key", "required": True, "schema": {"type": "string"}}])
@json_schema(schemas.CashierMove, put_into=schemas.BODY)  # type: ignore[arg-type]
async def credit(request: web.Request) -> web.Response:
    return await _move(request, "credit")


@routes.post(BASE + "/debit")
@docs(tags=["agent"], security=BEARER, responses=MOVE_ANSWERS,
      summary="Debit a customer; never below the credit limit without a logged override",
      parameters=[{"in": "header", "name": "Idempotency-Key", "required": True, "schema": {"type": "string"}}])
@json_schema(schemas.CashierMove, put_into=schemas.BODY)  # type: ignore[arg-type]
async def debit(request: web.Request) -> web.Response:
    return await _move(request, "debit")


@routes.get(BASE + "/balances")
@docs(tags=["agent"], security=BEARER, responses=answers({200: "OK"}, 403, 404),
      summary="Balances, credit limits, pending risk and available credit")
@querystring_schema(schemas.BalancesQuery, put_into=schemas.QUERY)  # type: ignore[arg-type]
async def balances(request: web.Request) -> web.Response:
    who = await agent_caller(request)
    return json_response(await cashier.balances(request.app[PG], who.user_id, request[schemas.QUERY]))


@routes.get(BASE + "/transactions")
@docs(tags=["agent"], security=BEARER, responses=answers({200: "OK"}, 403, 404),
      summary="Ledger entries per customer or all, by business days and type (zero amounts on request)")
@querystring_schema(schemas.TransactionsQuery, put_into=schemas.QUERY)  # type: ignore[arg-type]
async def transactions(request: web.Request) -> web.Response:
    who = await agent_caller(request)
    query = request[schemas.QUERY]
    window = await report_window(request.app[PG], who.user_id, query, now(request))
    return json_response(await cashier.transactions(request.app[PG], who.user_id, query, window))


@routes.get(BASE + "/summary")
@docs(tags=["agent"], security=BEARER, responses=answers({200: "OK"}, 403, 404),
      summary="Per day or week: deposits, withdrawals, net, player win/loss, hold")
@querystring_schema(schemas.SummaryQuery, put_into=schemas.QUERY)  # type: ignore[arg-type]
async def summary(request: web.Request) -> web.Response:
    who = await agent_caller(request)
    query = request[schemas.QUERY]
    window = await report_window(request.app[PG], who.user_id, query, now(request))
    return json_response(await cashier.summary(request.app[PG], who.user_id, query, window))
