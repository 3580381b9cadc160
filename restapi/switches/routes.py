"""The kill switch route group: an admin (the house) or a master agent (its tree) throws and releases
switches; any signed-in caller reads the switches that apply to it (web pages grey prices with it)."""

from __future__ import annotations

from aiohttp import web
from aiohttp_apigami import docs, request_schema, response_schema
from marshmallow import Schema, fields, validate

from restapi.auth.principal import principal
from restapi.fields import StrictBool, Text
from restapi.keys import CLOCK, PG, REDIS, SWITCHES
from restapi.openapi import BEARER, BODY, error_responses
from restapi.switches import store
from restapi.switches.model import SCOPES
from shared.web import json_response

PREFIX = "/api/v1/switches"
routes = web.RouteTableDef()


class SwitchIn(Schema):
    scope = fields.String(required=True, validate=validate.OneOf(SCOPES), metadata={"example": "league"})
    target = Text(load_default="", max_length=120, metadata={
        "example": "basketball_nba", "description": "'' for global; a sport or league key; an event id; "
                                                    "'event_id/market'; for feature: live_betting, parlays, signups"})
    suspended = StrictBool(required=True, metadata={"example": True,
                                                    "description": "true suspends betting (or turns the feature off)"})
    reason = Text(required=True, min_length=1, max_length=500, metadata={"example": "Feed looks wrong"})


class SwitchOut(Schema):
    id = fields.Integer()
    owner_id = fields.Integer(allow_none=True, metadata={"description": "null: the house; else the master agent"})
    scope = fields.String()
    target = fields.String()
    suspended = fields.Boolean()
    reason = fields.String()
    changed_by = fields.Integer()
    changed_at = fields.String()
    label = fields.String(metadata={"description": "What the switch covers, in plain words"})


class AuditOut(Schema):
    id = fields.Integer()
    switch_id = fields.Integer()
    scope = fields.String()
    target = fields.String()
    suspended = fields.Boolean()
    reason = fields.String()
    actor_id = fields.Integer()
    at = fields.String()
    label = fields.String()


class OverviewOut(Schema):
    owner_id = fields.Integer(allow_none=True)
    switches = fields.List(fields.Nested(SwitchOut))
    audit = fields.List(fields.Nested(AuditOut))


class ActiveOut(Schema):
    switches = fields.List(fields.Nested(SwitchOut))


@routes.get(PREFIX, allow_head=False)
@docs(tags=["switches"], summary="The caller's kill switches and their recent changes (admin, master agent)",
      security=BEARER)
@response_schema(OverviewOut, 200)
@error_responses(401, 403, 429)
async def get_overview(request: web.Request) -> web.Response:
    who = await principal(request)
    return json_response(await store.overview(request.app[PG], who.user_id))


@routes.put(PREFIX)
@docs(tags=["switches"], summary="Throw or release a kill switch (admin: the house; master agent: its tree)",
      security=BEARER,
      description="Audited, effective on every API process within a second and pushed to every socket. While "
                  "thrown, bets it covers answer 409 `betting_suspended` naming the scope (signups: 409 "
                  "`signups_suspended`).")
@request_schema(SwitchIn, required=True, put_into=BODY,  # type: ignore[arg-type]
                example={"scope": "league", "target": "basketball_nba", "suspended": True,
                         "reason": "Feed looks wrong"})
@response_schema(SwitchOut, 200)
@error_responses(400, 401, 403, 413, 422, 429)
async def put_switch(request: web.Request) -> web.Response:
    who = await principal(request)
    d = request[BODY]
    return json_response(await store.set_switch(request.app[PG], request.app[REDIS], who.user_id, d["scope"],
                                                d["target"], d["suspended"], d["reason"], request.app[CLOCK]()))


@routes.get(f"{PREFIX}/active", allow_head=False)
@docs(tags=["switches"], summary="The thrown switches that apply to the caller", security=BEARER)
@response_schema(ActiveOut, 200)
@error_responses(401, 404, 429)
async def get_active(request: web.Request) -> web.Response:
    who = await principal(request)
    board = request.app[SWITCHES].board
    return json_response({"switches": await store.applying(request.app[PG], board, who.user_id)})


def setup(app: web.Application) -> None:
    """Register the kill switch routes."""
    app.router.add_routes(routes)
