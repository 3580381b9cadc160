"""HTTP handler of ``POST /api/v1/agent/import``: a CSV of customers, dry run first, then one import."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp_apigami import docs, json_schema

from restapi.agent import book_import, schemas
from restapi.agent.common import agent_caller, now
from restapi.keys import MAILER, ORIGINS, PG
from restapi.openapi import BEARER, answers
from shared.errors import Unavailable
from shared.web import json_response

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
SUBJECT = "Your WagerBabe account is ready"


@routes.post("/api/v1/agent/import")
@docs(tags=["agent"], security=BEARER,
      responses=answers({200: "Dry run, or rows with problems", 201: "Imported"}, 403, 404),
      summary="Import a CSV of customers: a dry run lists every row's problems; then one transaction")
@json_schema(schemas.ImportBody, put_into=schemas.BODY)  # type: ignore[arg-type]
async def import_book(request: web.Request) -> web.Response:
    who = await agent_caller(request)
    body = request[schemas.BODY]
    # Links only ever point at a configured public origin, never at the request's Host (a forged Host
    # would mail a working password link to the attacker's site). None configured: a relative link is
    # shown to the agent and nothing is mailed.
    base = request.app[ORIGINS].link_base(request.host)
    report, invites = await book_import.run(request.app[PG], who.user_id, body["csv"], agent_id=body.get("agent_id"),
                                            dry_run=body["dry_run"], base_url=base or "", now=now(request))
    by_login = {r["login"]: r for r in report["rows"]}
    for invite in invites:
        sent = False
        if invite.email and base:
            try:
                sent = await request.app[MAILER].send(invite.email, SUBJECT,
                                                      book_import.invite_body(invite.login, invite.link))
            except Unavailable as exc:  # the accounts exist; the agent gets the link instead
                log.warning("invite mail failed: %s", exc)
        row = by_login[invite.login]
        if sent:
            row["password"] = f"A link to choose a password was mailed to {invite.email}"
        else:
            row["password"] = "Give the player this link to choose a password (it works once, for 7 days)"
            row["setup_link"] = invite.link
    return json_response(report, status=200 if body["dry_run"] or not report["ok"] else 201)
