"""HTTP handlers of ``/api/v1/agent/settlements``, the agent's cycle settings and the ledger check."""

from __future__ import annotations

from aiohttp import web
from aiohttp_apigami import docs, json_schema, querystring_schema

from restapi.agent import schemas, settlements
from restapi.agent.common import agent_caller, idempotency_key, now
from restapi.agent.cycles import SELECT_SCHEDULE, Schedule, zone
from restapi.agent.queries_settle import UPSERT_SCHEDULE
from restapi.auth.principal import require_role
from restapi.keys import PG
from restapi.ledger.verify import verify
from restapi.openapi import BEARER, answers
from shared.errors import ValidationFailed
from shared.web import json_response, path_id

routes = web.RouteTableDef()
BASE = "/api/v1/agent/settlements"



@routes.get(BASE)
@docs(tags=["agent"], security=BEARER, responses=answers({200: "OK"}, 403),
      summary="Settlements of a week (?week=YYYY-MM-DD) or recent and open ones")
@querystring_schema(schemas.SettlementsQuery, put_into=schemas.QUERY)  # type: ignore[arg-type]
async def list_settlements(request: web.Request) -> web.Response:
    who = await agent_caller(request)
    return json_response(await settlements.listing(request.app[PG], who.user_id, request[schemas.QUERY],
                                                   now(request)))


@routes.get(BASE + "/compliance")
@docs(tags=["agent"], security=BEARER, responses=answers({200: "OK"}, 403),
      summary="Settled on time, overdue with days overdue, completion rate per agent")
async def compliance(request: web.Request) -> web.Response:
    who = await agent_caller(request)
    return json_response(await settlements.compliance(request.app[PG], who.user_id, now(request)))


@routes.post(BASE + "/{settlement_id}/payments")
@docs(tags=["agent"], security=BEARER, responses=answers({201: "Payment recorded"}, 403, 404, 409),
      summary="Record a (partial) payment with its method; posts to the ledger",
      parameters=[{"in": "header", "name": "Idempotency-Key", "required": False, "schema": {"type": "string"}}])
@json_schema(schemas.PaymentBody, put_into=schemas.BODY)  # type: ignore[arg-type]
async def pay(request: web.Request) -> web.Response:
    who = await agent_caller(request)
    settlement_id = path_id(request, "settlement_id", "No such settlement in your book", "settlement_not_found")
    key = request.headers.get("Idempotency-Key")
    key = idempotency_key(request) if key is not None else None
    body = await settlements.pay(request.app[PG], who.user_id, settlement_id, request[schemas.BODY], key=key,
                                 at=now(request))
    return json_response(body, status=201)


@routes.get("/api/v1/agent/schedule")
@docs(tags=["agent"], security=BEARER, responses=answers({200: "OK"}, 403),
      summary="The caller's weekly cycle settings")
async def get_schedule(request: web.Request) -> web.Response:
    who = await agent_caller(request)
    async with request.app[PG].acquire() as conn, conn.cursor() as cur:
        await cur.execute(SELECT_SCHEDULE, {"agent_id": who.user_id})
        row = await cur.fetchone()
    s = Schedule() if row is None else Schedule(*row)
    return json_response(_schedule_json(s))


@routes.put("/api/v1/agent/schedule")
@docs(tags=["agent"], security=BEARER, responses=answers({200: "OK"}, 403),
      summary="Change the weekly close day/time (agent's timezone), reminder lead, due days")
@json_schema(schemas.ScheduleBody, put_into=schemas.BODY)  # type: ignore[arg-type]
async def put_schedule(request: web.Request) -> web.Response:
    who = await require_role(request, "agent")
    body = request[schemas.BODY]
    if not body:
        raise ValidationFailed("Nothing to change", details={"body": ["send at least one field"]})
    if "timezone" in body:
        try:
            zone(body["timezone"])
        except ValueError:
            raise ValidationFailed("Unknown timezone", details={"timezone": ["not an IANA timezone"]}) from None
    async with request.app[PG].acquire() as conn, conn.cursor() as cur, cur.begin():
        await cur.execute(SELECT_SCHEDULE, {"agent_id": who.user_id})
        row = await cur.fetchone()
        current = Schedule() if row is None else Schedule(*row)
        merged = {f: body.get(f, getattr(current, f)) for f in Schedule.__slots__}
        await cur.execute(UPSERT_SCHEDULE, {"agent_id": who.user_id, **merged})
    return json_response(_schedule_json(Schedule(**merged)))


def _schedule_json(s: Schedule) -> dict[str, object]:
    return {"timezone": s.timezone, "close_dow": s.close_dow, "close_time": s.close_time.isoformat(),
            "reminder_hours": s.reminder_hours, "due_days": s.due_days, "master_can_write": s.master_can_write}


@routes.get("/api/v1/agent/ledger/verify")
@docs(tags=["agent"], security=BEARER, responses=answers({200: "OK"}, 403),
      summary="Admin: recompute the ledger hash chains; reports the first broken entry")
@querystring_schema(schemas.VerifyQuery, put_into=schemas.QUERY)  # type: ignore[arg-type]
async def verify_ledger(request: web.Request) -> web.Response:
    await require_role(request, "admin")
    report = await verify(request.app[PG], request[schemas.QUERY].get("account_id"))
    return json_response(report.to_json())
