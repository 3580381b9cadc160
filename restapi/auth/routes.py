"""The auth route group: signup, login, logout, refresh, me, sessions, password reset, push ticket, JWKS."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import orjson
from aiohttp import web
from aiohttp_apigami import docs, request_schema, response_schema

from restapi.auth import cookies, reset, service
from restapi.auth import schemas as s
from restapi.auth.cors import cors_middleware
from restapi.auth.principal import principal, principal_and_get
from restapi.auth.queries import SELECT_USER
from restapi.fields import client_ip, printable
from restapi.keys import CLOCK, KEYRING, MAILER, ORIGINS, PG, REDIS, SETTINGS, SWITCHES, TASKS
from restapi.openapi import BEARER, BODY, PATH, error_responses
from shared import pushticket, ratelimit
from shared.errors import NotFound, Unauthorized
from shared.mail import Mailer
from shared.web import error_middleware, json_response

log = logging.getLogger(__name__)

PREFIX = "/api/v1/auth"
routes = web.RouteTableDef()
NO_STORE = {"Cache-Control": "no-store"}


def me_cache_key(user_id: int) -> str:
    """Redis key of the cached ``auth/me`` answer (profile updates delete it)."""
    return f"cache:me:{user_id}"


def _deps(request: web.Request) -> service.Deps:
    app = request.app
    return service.Deps(app[PG], app[REDIS], app[KEYRING], app[SETTINGS], app[CLOCK])


def _ip(request: web.Request) -> str:
    # X-Forwarded-For counts only from TRUSTED_PROXIES: otherwise anyone could pick the IP the limits count.
    return client_ip(request.remote or "", request.headers.get("X-Forwarded-For", ""),
                     request.app[SETTINGS].trusted_proxies)


def _client(request: web.Request, device: str) -> service.Client:
    return service.Client(ip=_ip(request), user_agent=printable(request.headers.get("User-Agent", ""), 300),
                          device=device)


def _background(app: web.Application, coro: Coroutine[Any, Any, None]) -> None:
    task = asyncio.get_running_loop().create_task(coro)
    app[TASKS].add(task)
    task.add_done_callback(app[TASKS].discard)


@routes.post(f"{PREFIX}/signup")
@docs(tags=["auth"], summary="Create a player account and log it in",
      description="The player joins the book of the agent whose login is `agent`. Answers like login.")
@request_schema(s.SignupIn, required=True, put_into=BODY)  # type: ignore[arg-type]
@response_schema(s.LoginOut, 201, description="Account created; the new session's tokens")
@error_responses(400, 409, 413, 422, 429)
async def signup(request: web.Request) -> web.Response:
    d = request[BODY]
    user, issued = await service.signup(_deps(request), email=d["email"], password=d["password"], agent=d["agent"],
                                        login=d["login"], display_name=d["display_name"],
                                        client=_client(request, d["device"]), switches=request.app[SWITCHES].board)
    return json_response({**issued.as_dict(), "user": user}, status=201, headers=NO_STORE)


def _tokens_answer(request: web.Request, issued: service.Issued, cookie: bool, status: int = 200,
                   **more: Any) -> web.Response:
    """The token answer: the refresh token in the body (API clients) or only in the cookie (web app)."""
    body = {**issued.as_dict(), **more}
    if cookie:
        del body["refresh_token"]
    response = json_response(body, status=status, headers=NO_STORE)
    if cookie:
        cookies.set_refresh(response, request, issued.refresh_token, issued.refresh_expires_in)
    return response


@routes.post(f"{PREFIX}/login")
@docs(tags=["auth"], summary="Log in with login name or email",
      description="Opens a session for this device. Failed attempts are limited per IP and per account "
                  "(429 with Retry-After; see docs/security.md). With `cookie: true` (the web app) the refresh "
                  "token is set as an httpOnly SameSite=Strict cookie instead of returned, and the request "
                  "must carry an Origin of this site (403 `csrf_origin`).")
@request_schema(s.LoginIn, required=True, put_into=BODY)  # type: ignore[arg-type]
@response_schema(s.LoginOut, 200, description="The new session's tokens and the user")
@error_responses(400, 401, 403, 413, 422, 429)
async def login(request: web.Request) -> web.Response:
    d = request[BODY]
    if d["cookie"]:
        cookies.check_origin(request)
    user, issued = await service.login(_deps(request), identifier=d["login"], password=d["password"],
                                       client=_client(request, d["device"]))
    return _tokens_answer(request, issued, d["cookie"], user=user)


@routes.post(f"{PREFIX}/refresh")
@docs(tags=["auth"], summary="Rotate a refresh token",
      description="Spends the refresh token and returns a new pair. Presenting a spent token revokes the "
                  "whole session (`refresh_token_reused`). Deactivated accounts get 403. Without "
                  "`refresh_token` in the body, the web app's refresh cookie is used: the request must then "
                  "carry an Origin of this site (403 `csrf_origin`) and the new token goes back in the cookie.")
@request_schema(s.RefreshIn, required=True, put_into=BODY)  # type: ignore[arg-type]
@response_schema(s.TokensOut, 200, description="A new token pair for the same session")
@error_responses(400, 401, 403, 413, 422, 429)
async def refresh(request: web.Request) -> web.Response:
    token = request[BODY]["refresh_token"]
    cookie = token is None
    if cookie:  # the web app: the cookie authenticates, so the request must come from this site
        cookies.check_origin(request)
        token = cookies.refresh_token(request)
        if token is None:
            raise Unauthorized("No session here; log in", code="missing_refresh_token")
    issued = await service.refresh(_deps(request), token, _ip(request))
    return _tokens_answer(request, issued, cookie)


@routes.post(f"{PREFIX}/logout")
@docs(tags=["auth"], summary="Log out this device", security=BEARER,
      description="Revokes this session's refresh tokens and denylists the access token until it expires.",
      responses={204: {"description": "Logged out"}})
@error_responses(401, 429)
async def logout(request: web.Request) -> web.Response:
    who = await principal(request)
    await service.logout(_deps(request), who.user_id, who.session_id, who.jti, who.exp)
    response = web.Response(status=204)
    cookies.clear_refresh(response)  # the web app's cookie names the session just revoked
    return response


@routes.post(f"{PREFIX}/logout-all")
@docs(tags=["auth"], summary="Log out every device", security=BEARER,
      description="Revokes every session of the user and denylists their access tokens.")
@response_schema(s.RevokedOut, 200)
@error_responses(401, 429)
async def logout_all(request: web.Request) -> web.Response:
    who = await principal(request)
    deps = _deps(request)
    count = await service.revoke_all(deps.pool, deps.redis, who.user_id, "logout_all")
    await service.logout(deps, who.user_id, None, who.jti, who.exp)
    return json_response({"revoked": count})


@routes.get(f"{PREFIX}/me", allow_head=False)
@docs(tags=["auth"], summary="The caller", security=BEARER,
      description="Answered from a short Redis cache (AUTH_ME_CACHE_TTL seconds).")
@response_schema(s.UserOut, 200)
@error_responses(401, 404, 429)
async def me(request: web.Request) -> web.Response:
    redis, ttl = request.app[REDIS], request.app[SETTINGS].me_cache_ttl
    who, cached = await principal_and_get(request, me_cache_key if ttl else None)
    if cached is not None:
        return web.Response(body=cached, content_type="application/json")
    async with request.app[PG].acquire() as conn, conn.cursor() as cur:
        await cur.execute(SELECT_USER, {"id": who.user_id})
        row = await cur.fetchone()
    if row is None:
        raise NotFound("This account no longer exists", code="user_not_found")
    body = orjson.dumps(service.user_dict(row))
    if ttl:
        await redis.set(me_cache_key(who.user_id), body, ex=ttl)
    return web.Response(body=body, content_type="application/json")


@routes.get(f"{PREFIX}/sessions", allow_head=False)
@docs(tags=["auth"], summary="The caller's active sessions (devices)", security=BEARER)
@response_schema(s.SessionsOut, 200)
@error_responses(401, 429)
async def list_sessions(request: web.Request) -> web.Response:
    who = await principal(request)
    return json_response({"sessions": await service.sessions(_deps(request), who.user_id, who.session_id)})


@routes.delete(f"{PREFIX}/sessions/{{session_id}}")
@docs(tags=["auth"], summary="Revoke one of the caller's sessions", security=BEARER,
      description="Its refresh tokens stop working and its current access token is denylisted.",
      responses={204: {"description": "Revoked"}})
@request_schema(s.SessionPath, location="match_info", put_into=PATH)  # type: ignore[arg-type]
@error_responses(401, 404, 422, 429)
async def revoke_session(request: web.Request) -> web.Response:
    who = await principal(request)
    session_id = str(request[PATH]["session_id"])
    if not await service.revoke_session(_deps(request), who.user_id, session_id):
        raise NotFound("No such session", code="session_not_found")
    return web.Response(status=204)


@routes.post(f"{PREFIX}/password-reset/request")
@docs(tags=["auth"], summary="Ask for a password reset link",
      description="Answers 202 the same way whether or not an account has the email; the link (valid "
                  "30 minutes, single use) is mailed in the background. Limited per IP.")
@request_schema(s.ResetRequestIn, required=True, put_into=BODY)  # type: ignore[arg-type]
@response_schema(s.MessageOut, 202)
@error_responses(400, 413, 422, 429)
async def reset_request(request: web.Request) -> web.Response:
    deps = _deps(request)
    await ratelimit.enforce(deps.redis, service.reset_limit(deps.settings), _ip(request),
                                    "Too many reset requests; wait and retry")
    # Only a configured origin, never Host / X-Forwarded-Host / Forwarded: the link carries a live token.
    base = request.app[ORIGINS].link_base(request.host)
    if base is None:
        log.warning("password reset requested but RESTAPI_PUBLIC_URL is not set: no link is mailed")
    else:
        _background(request.app, _mail_reset(deps, request.app[MAILER], request[BODY]["email"], base))
    return json_response({"message": "If an account has that email, a reset link is on its way."}, status=202)


async def _mail_reset(deps: service.Deps, mailer: Mailer, email: str, base: str) -> None:
    try:
        await reset.request_reset(deps, mailer, email, base)
    except Exception:  # a background task has nobody to answer; log it, never the address
        log.exception("password reset mail failed")


@routes.post(f"{PREFIX}/password-reset/confirm")
@docs(tags=["auth"], summary="Set a new password with a reset token",
      description="Spends the token, changes the password and logs out every device.")
@request_schema(s.ResetConfirmIn, required=True, put_into=BODY)  # type: ignore[arg-type]
@response_schema(s.MessageOut, 200)
@error_responses(400, 413, 422, 429)
async def reset_confirm(request: web.Request) -> web.Response:
    d = request[BODY]
    await reset.confirm_reset(_deps(request), d["token"], d["password"], _ip(request))
    return json_response({"message": "Password changed; log in again on every device."})


@routes.post(f"{PREFIX}/push-ticket")
@docs(tags=["auth"], summary="A single-use ticket for pushd", security=BEARER,
      description="Say hello to pushd with this ticket instead of the access token, so the token never "
                  "appears in a URL. Valid AUTH_PUSH_TICKET_TTL seconds, once.")
@response_schema(s.PushTicketOut, 200)
@error_responses(401, 429)
async def push_ticket(request: web.Request) -> web.Response:
    who = await principal(request)
    ttl = request.app[SETTINGS].push_ticket_ttl
    ticket = await pushticket.issue(request.app[REDIS], user_id=who.user_id, role=who.role, agent_id=who.agent_id,
                                    ttl=ttl, jti=who.jti, token_exp=who.exp)
    return json_response({"ticket": ticket, "expires_in": ttl}, headers=NO_STORE)


@routes.get("/.well-known/jwks.json", allow_head=False)
@docs(tags=["auth"], summary="Public keys that verify access tokens (JWKS)",
      description="Every key that may have signed a live token; pick one by the token's `kid`.")
@response_schema(s.JwksOut, 200)
async def jwks(request: web.Request) -> web.Response:
    return json_response(request.app[KEYRING].jwks(), headers={"Cache-Control": "public, max-age=300"})


async def _tasks_ctx(app: web.Application) -> AsyncIterator[None]:
    tasks: set[asyncio.Task[None]] = set()
    app[TASKS] = tasks
    settings = app[SETTINGS]
    app[MAILER] = Mailer.from_settings(settings)
    yield
    if tasks:  # let mails in flight finish; a reset link must not vanish on deploy
        await asyncio.wait(list(tasks), timeout=settings.shutdown_timeout)


def setup(app: web.Application) -> None:
    """Register the auth routes, the JWKS document and the CORS middleware (GETs without HEAD: the spec
    would otherwise list a HEAD twin of each with a body it never has)."""
    app.cleanup_ctx.append(_tasks_ctx)
    mws = app.middlewares
    # Just outside the error middleware, so error answers carry CORS headers too.
    mws.insert(mws.index(error_middleware) if error_middleware in mws else 0, cors_middleware)
    app.router.add_routes(routes)

