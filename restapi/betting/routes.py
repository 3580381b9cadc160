"""The betting route group: slip, quote, bets (idempotent placement, history) and regrading."""

from __future__ import annotations

import re

from aiohttp import web
from aiohttp_apigami import docs, querystring_schema, request_schema, response_schema

from restapi.auth.principal import principal, require_role
from restapi.betting import schemas as s
from restapi.betting import service, settlement, slip
from restapi.keys import CLOCK, PG, REDIS, SETTINGS, SWITCHES
from restapi.openapi import BEARER, BODY, QUERY, error_responses
from restapi.replica import read_pool
from shared.errors import BadRequest, NotFound
from shared.web import json_response, path_id

PREFIX = "/api/v1/betting"
routes = web.RouteTableDef()
KEY_RE = re.compile(r"^[A-Za-z0-9._:~-]{1,100}$")
SELECTION_RE = re.compile(r"^[0-9a-f]{16}$")
KEY_HEADER = [{"in": "header", "name": "Idempotency-Key", "required": True, "schema": {"type": "string"},
               "description": "A unique key per bet (e.g. a UUID), 1-100 of A-Z a-z 0-9 . _ : ~ -. A retry with "
                              "the same key and body returns the first answer; another body is 422."}]
SELECTION_EXAMPLE = {"event_id": "e8a1c2f0", "market": "spreads", "outcome": "Boston Celtics", "point": -5.5,
                     "book": "draftkings", "price": -110}


def _bet_id(request: web.Request) -> int:
    return path_id(request, "bet_id", "No such bet", "bet_not_found")


def idempotency_key(request: web.Request) -> str:
    """The request's ``Idempotency-Key`` header, or 400."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        raise BadRequest("Send an Idempotency-Key header (e.g. a UUID) with each bet", code="idempotency_key_required")
    if not KEY_RE.match(key):
        raise BadRequest("Idempotency-Key must be 1-100 of A-Z a-z 0-9 . _ : ~ -", code="invalid_idempotency_key")
    return key


@routes.get(f"{PREFIX}/slip")
@docs(tags=["betting"], summary="The caller's betting slip, priced now", security=BEARER)
@response_schema(s.SlipOut, 200)
@error_responses(401, 403, 429)
async def get_slip(request: web.Request) -> web.Response:
    who = await require_role(request, "player")
    app = request.app
    return json_response(await slip.get_slip(app[PG], app[REDIS], app[SETTINGS], who.user_id, app[CLOCK]()))


@routes.put(f"{PREFIX}/slip")
@docs(tags=["betting"], summary="Replace the slip (sync from a device)", security=BEARER,
      description="Unknown selections are 422; closed or moved ones are kept and flagged.")
@request_schema(s.SlipIn, example={"selections": [SELECTION_EXAMPLE], "parlay_stake_cents": None},
                put_into=BODY)  # type: ignore[arg-type]
@response_schema(s.SlipOut, 200)
@error_responses(400, 401, 403, 413, 422, 429)
async def put_slip(request: web.Request) -> web.Response:
    who = await require_role(request, "player")
    app = request.app
    return json_response(await slip.put_slip(app[PG], app[REDIS], app[SETTINGS], who.user_id, request[BODY],
                                             app[CLOCK]()))


@routes.delete(f"{PREFIX}/slip")
@docs(tags=["betting"], summary="Empty the slip", security=BEARER, responses={204: {"description": "Emptied"}})
@error_responses(401, 403, 429)
async def delete_slip(request: web.Request) -> web.Response:
    who = await require_role(request, "player")
    await slip.delete_slip(request.app[REDIS], who.user_id)
    return web.Response(status=204)


@routes.post(f"{PREFIX}/slip/selections")
@docs(tags=["betting"], summary="Add a selection to the slip", security=BEARER,
      description="Adding an outcome already on the slip replaces it. Without `price`, the current price is "
                  "recorded as seen; without `book`, the house picks one (see README).")
@request_schema(s.QuoteSelectionIn, example={**SELECTION_EXAMPLE, "stake_cents": 1100}, put_into=BODY)  # type: ignore[arg-type]
@response_schema(s.SlipOut, 201)
@error_responses(400, 401, 403, 409, 413, 422, 429)
async def add_selection(request: web.Request) -> web.Response:
    who = await require_role(request, "player")
    app = request.app
    view = await slip.add_selection(app[PG], app[REDIS], app[SETTINGS], who.user_id, request[BODY], app[CLOCK]())
    return json_response(view, status=201)


@routes.delete(f"{PREFIX}/slip/selections/{{selection_id}}")
@docs(tags=["betting"], summary="Remove a selection from the slip", security=BEARER)
@response_schema(s.SlipOut, 200)
@error_responses(401, 403, 404, 429)
async def remove_selection(request: web.Request) -> web.Response:
    who = await require_role(request, "player")
    selection = request.match_info["selection_id"]
    if not SELECTION_RE.match(selection):
        raise NotFound("No such selection on the slip", code="selection_not_found")
    app = request.app
    return json_response(await slip.remove_selection(app[PG], app[REDIS], app[SETTINGS], who.user_id, selection,
                                                     app[CLOCK]()))


@routes.post(f"{PREFIX}/quote")
@docs(tags=["betting"], summary="Price selections: straight payouts and the parlay (stateless)", security=BEARER)
@request_schema(s.QuoteIn, example={"selections": [{**SELECTION_EXAMPLE, "stake_cents": 1100}],
                                    "parlay_stake_cents": None}, put_into=BODY)  # type: ignore[arg-type]
@response_schema(s.QuoteOut, 200)
@error_responses(400, 401, 413, 422, 429)
async def quote(request: web.Request) -> web.Response:
    await principal(request)
    d = request[BODY]
    entries = [slip.entry_from(sel) for sel in d["selections"]]
    return json_response(await slip.quote(request.app[PG], request.app[SETTINGS], entries, d["parlay_stake_cents"],
                                          request.app[CLOCK]()))


@routes.post(f"{PREFIX}/bets")
@docs(tags=["betting"], summary="Place a straight bet or a parlay", security=BEARER, parameters=KEY_HEADER,
      description="One transaction: account active, markets open and not started (or live-bettable), each "
                  "price equal to the one seen or acceptable under `accept_price_changes` (else 409 "
                  "`price_changed` with the new prices), stake limits (422), available credit (409 "
                  "`insufficient_credit`); 409 `betting_suspended` naming the `scope` and `target` while a kill "
                  "switch covers the bet. 201 with the bet; a retry with the same key answers 200 with the "
                  "same bet, waiting for a first attempt still in flight.")
@request_schema(s.BetIn, example={"type": "straight", "stake_cents": 1100, "selections": [SELECTION_EXAMPLE]},
                put_into=BODY)  # type: ignore[arg-type]
@response_schema(s.PlacedOut, 201, description="Bet accepted")
@response_schema(s.PlacedOut, 200, description="Replay of the first answer to this Idempotency-Key")
@error_responses(400, 401, 403, 409, 413, 422, 429)
async def place_bet(request: web.Request) -> web.Response:
    who = await require_role(request, "player")
    key = idempotency_key(request)
    app = request.app
    status, body = await service.place_bet(app[PG], app[REDIS], app[SETTINGS], who.user_id, key,
                                           service.bet_request(request[BODY]), app[CLOCK](), app[SWITCHES].board)
    return json_response(body, status=status, headers={"Idempotent-Replayed": "true"} if status == 200 else None)


@routes.get(f"{PREFIX}/bets")
@docs(tags=["betting"], summary="The caller's bets, newest first", security=BEARER,
      description="Filters: status, type (straight or parlay), sport or league key, placed-at range [from, to). "
                  "Pass `next_cursor` back as `cursor` for the next page.")
@querystring_schema(s.HistoryQuery, put_into=QUERY)  # type: ignore[arg-type]
@response_schema(s.HistoryOut, 200)
@error_responses(401, 403, 422, 429)
async def list_bets(request: web.Request) -> web.Response:
    who = await require_role(request, "player")
    page_max = request.app[SETTINGS].betting_page_max
    pool = await read_pool(request, who.user_id)
    return json_response(await service.history(pool, who.user_id, request[QUERY], page_max))


@routes.get(f"{PREFIX}/bets/{{bet_id}}")
@docs(tags=["betting"], summary="One of the caller's bets", security=BEARER)
@response_schema(s.BetOut, 200)
@error_responses(401, 403, 404, 429)
async def get_bet(request: web.Request) -> web.Response:
    who = await require_role(request, "player")
    return json_response(await service.get_bet(request.app[PG], who.user_id, _bet_id(request)))


@routes.post(f"{PREFIX}/bets/{{bet_id}}/regrade")
@docs(tags=["betting"], summary="Regrade a bet by hand (admin, or a master agent for its tree)", security=BEARER,
      description="Sets leg results (e.g. after a score correction) and re-settles the bet: the old settlement "
                  "is reversed with contra ledger entries and the change is audit-logged with the reason. "
                  "A sub-agent is refused (403 `regrade_not_allowed`), and so is a result for a game that has not "
                  "started (409 `event_not_started`).")
@request_schema(s.RegradeIn, example={"reason": "Score corrected: 101-99", "legs": [{"leg_no": 1, "result": "won"}]},
                put_into=BODY)  # type: ignore[arg-type]
@response_schema(s.BetOut, 200)
@error_responses(400, 401, 403, 404, 409, 413, 422, 429)
async def regrade(request: web.Request) -> web.Response:
    who = await require_role(request, "agent", "admin")
    d = request[BODY]
    results = {leg["leg_no"]: leg["result"] for leg in d["legs"]}
    body = await settlement.regrade(request.app[PG], request.app[REDIS], who.user_id, _bet_id(request),
                                    d["reason"], results, request.app[CLOCK]())
    return json_response(body)


EVENT_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


@routes.post(f"{PREFIX}/events/{{event_id}}/regrade")
@docs(tags=["betting"], summary="Correct an event's result and regrade its bets (admin, or a master agent)",
      security=BEARER,
      description="Regrades every bet in the caller's book (an admin's: every book; a master agent's: its tree) "
                  "with a leg on the event from the corrected score: moneyline, spreads and totals as the grader "
                  "does, `cancelled` voids. Only for a game that has started (final, or past its start time; else "
                  "409 `event_not_started`); a sub-agent is refused (403 `regrade_not_allowed`). Each bet is "
                  "re-settled with contra ledger entries and an audit row carrying the reason; sending the same "
                  "correction again changes no money.")
@request_schema(s.ScoreCorrectionIn, example={"reason": "League stat correction", "status": "final",
                                             "home_score": 101, "away_score": 99}, put_into=BODY)  # type: ignore[arg-type]
@response_schema(s.EventRegradeOut, 200)
@error_responses(400, 401, 403, 404, 409, 413, 422, 429)
async def correct_score(request: web.Request) -> web.Response:
    who = await require_role(request, "agent", "admin")
    event_id = request.match_info["event_id"]
    if not EVENT_ID_RE.match(event_id):
        raise NotFound("No such event", code="event_not_found")
    d = request[BODY]
    body = await settlement.correct_score(request.app[PG], request.app[REDIS], who.user_id, event_id, d["reason"],
                                          d["status"], d["home_score"], d["away_score"], request.app[CLOCK]())
    return json_response(body)


def setup(app: web.Application) -> None:
    """Register the betting routes."""
    app.router.add_routes(routes)

