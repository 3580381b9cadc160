"""The user route group: ``GET/PATCH user/profile`` and ``GET/PUT user/preferences``."""

from __future__ import annotations

from aiohttp import web
from aiohttp_apigami import docs, request_schema, response_schema

from restapi.auth.principal import principal
from restapi.auth.routes import me_cache_key
from restapi.auth.schemas import UserOut
from restapi.keys import PG, REDIS
from restapi.openapi import BEARER, BODY, error_responses
from restapi.user import service
from restapi.user.schemas import PreferencesSchema, ProfilePatch
from shared.web import json_response

PREFIX = "/api/v1/user"
routes = web.RouteTableDef()


@routes.get(f"{PREFIX}/profile", allow_head=False)
@docs(tags=["user"], summary="The caller's profile", security=BEARER)
@response_schema(UserOut, 200)
@error_responses(401, 404, 429)
async def get_profile(request: web.Request) -> web.Response:
    who = await principal(request)
    return json_response(await service.get_profile(request.app[PG], who.user_id))


@routes.patch(f"{PREFIX}/profile")
@docs(tags=["user"], summary="Change display name, email or phone", security=BEARER,
      description="Only the fields sent change. The email is normalised (trimmed, lower case).")
@request_schema(ProfilePatch, required=True, put_into=BODY)  # type: ignore[arg-type]
@response_schema(UserOut, 200)
@error_responses(400, 401, 404, 409, 413, 422, 429)
async def patch_profile(request: web.Request) -> web.Response:
    who = await principal(request)
    profile = await service.patch_profile(request.app[PG], who.user_id, request[BODY])
    await request.app[REDIS].delete(me_cache_key(who.user_id))
    return json_response(profile)


@routes.get(f"{PREFIX}/preferences", allow_head=False)
@docs(tags=["user"], summary="The caller's preferences (defaults until saved)", security=BEARER)
@response_schema(PreferencesSchema, 200)
@error_responses(401, 429)
async def get_preferences(request: web.Request) -> web.Response:
    who = await principal(request)
    return json_response((await service.get_preferences(request.app[PG], who.user_id)).as_api())


@routes.put(f"{PREFIX}/preferences")
@docs(tags=["user"], summary="Replace the caller's preferences", security=BEARER)
@request_schema(PreferencesSchema, required=True, put_into=BODY)  # type: ignore[arg-type]
@response_schema(PreferencesSchema, 200)
@error_responses(400, 401, 413, 422, 429)
async def put_preferences(request: web.Request) -> web.Response:
    who = await principal(request)
    prefs = service.Preferences.from_api(request[BODY])
    return json_response((await service.put_preferences(request.app[PG], who.user_id, prefs)).as_api())


def setup(app: web.Application) -> None:
    """Register the user routes."""
    app.router.add_routes(routes)

