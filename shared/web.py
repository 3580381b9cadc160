"""HTTP plumbing every service shares: trace, metrics and error middlewares, health and metrics routes.

Middleware order (outermost first): ``trace`` sets the trace context from ``traceparent`` and writes
the access log line; ``metrics`` counts requests by route template and status; ``errors`` turns every
exception into the JSON error shape, so no client ever sees an HTML page or a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from shared import tracing
from shared.errors import AppError, BadRequest, NotFound, ValidationFailed
from shared.metrics import HTTP_LATENCY, HTTP_REQUESTS
from shared.outage import outage_error

log = logging.getLogger(__name__)
access_log = logging.getLogger("wagerbabe.access")

SERVICE: web.AppKey[str] = web.AppKey("service", str)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Check = Callable[[web.Application], Awaitable[None]]

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    408: "request_timeout",
    411: "length_required",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    431: "headers_too_large",
}


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    """A JSON response encoded with orjson."""
    return web.Response(
        body=orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def error_response(err: AppError) -> web.Response:
    """The JSON error shape for ``err``."""
    return json_response(err.to_dict(), status=err.status, headers=err.headers)


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400/422 that says what is wrong with it."""
    raw = await request.read()
    if not raw:
        raise BadRequest("Request body is empty; send a JSON object", code="invalid_json")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"Body is not valid UTF-8 JSON: {exc.msg}", code="invalid_json") from None
    if not isinstance(data, dict):
        raise ValidationFailed("Body must be a JSON object", details={"body": ["expected an object"]})
    return data


# Ids are PostgreSQL bigint: 1 .. 2**63-1. Digits are ASCII only: str.isdigit() also accepts "³" and "٣",
# on which int() fails or, worse, succeeds ("٣" is 3) and aliases another id, as "007" would.
MAX_ID = 2**63 - 1
_MAX_ID_DIGITS = len(str(MAX_ID))


def parse_id(text: str) -> int | None:
    """``text`` as a bigint id (1-19 ASCII digits, no leading zero, 1 .. 2**63-1), or None."""
    if not text or len(text) > _MAX_ID_DIGITS or not (text.isascii() and text.isdigit()) or text[0] == "0":
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def path_id(request: web.Request, name: str, message: str, code: str) -> int:
    """The path parameter ``name`` parsed by ``parse_id``; anything else is a 404 with ``message``/``code``.

    Every numeric path parameter goes through here, so no handler can turn a strange id into a 500.
    """
    value = parse_id(request.match_info.get(name, ""))
    if value is None:
        raise NotFound(message, code=code)
    return value


def _route_name(request: web.Request) -> str:
    info = request.match_info
    route = info.route if info is not None else None
    if route is None or route.resource is None:
        return "unmatched"
    return route.resource.canonical


@web.middleware
async def trace_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Continue the caller's W3C trace (or start one) and write one access-log line per request."""
    ctx = tracing.continue_trace(request.headers.get("traceparent"))
    token = tracing.set_current(ctx)
    start = time.perf_counter()
    status = 500
    try:
        try:
            response = await handler(request)
        except web.HTTPException:
            raise  # redirects and the like, which error_middleware lets through
        except Exception:  # last resort: a failure outside error_middleware still gets the JSON shape
            log.exception("unhandled error in middleware on %s %s", request.method, request.path)
            response = error_response(AppError())
        status = response.status
        response.headers["traceparent"] = ctx.traceparent
        return response
    finally:
        # The query string is left out on purpose: it may carry tickets or personal data.
        if access_log.isEnabledFor(logging.INFO):  # skips building the record's fields when off
            _log_access(request, status, start)
        tracing.reset(token)


def _log_access(request: web.Request, status: int, start: float) -> None:
    """The access-log line of one request (method, path without its query, status, milliseconds)."""
    access_log.info(
        "%s %s %s",
        request.method,
        request.path,
        status,
        extra={
            "fields": {
                "method": request.method,
                "path": request.path,
                "status": status,
                "ms": round((time.perf_counter() - start) * 1000, 2),
            }
        },
    )


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count requests and observe latency by route template, method and status."""
    start = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    finally:
        children = _metric_children(request.app.get(SERVICE, "unknown"), request.method, _route_name(request),
                                    status)
        children[0].inc()
        children[1].observe(time.perf_counter() - start)


_CHILDREN: dict[tuple[str, str, str, int], tuple[Any, Any]] = {}
_CHILDREN_MAX = 4096


def _metric_children(service: str, method: str, route: str, status: int) -> tuple[Any, Any]:
    """The labelled request counter and latency histogram, looked up once per label set (``labels()``
    validates and takes a lock on each call). Routes are templates, so the label sets are few; a client
    cannot grow this with made-up methods beyond ``_CHILDREN_MAX``."""
    key = (service, method, route, status)
    found = _CHILDREN.get(key)
    if found is None:
        found = (HTTP_REQUESTS.labels(service, method, route, str(status)), HTTP_LATENCY.labels(service, method, route))
        if len(_CHILDREN) < _CHILDREN_MAX:
            _CHILDREN[key] = found
    return found


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Map ``AppError`` and aiohttp's HTTP errors to the JSON shape; log and hide anything else."""
    try:
        return await handler(request)
    except AppError as app_err:
        if app_err.status >= 500:
            log.error("request failed: %s", app_err.message, extra={"fields": {"error": app_err.code}})
        return error_response(app_err)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        details: dict[str, Any] = {}
        if isinstance(exc, web.HTTPMethodNotAllowed):
            details["allowed"] = sorted(exc.allowed_methods)
        code = _HTTP_CODES.get(exc.status, "http_error")
        err = AppError(exc.reason, details=details, code=code)
        err.status = exc.status
        headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
        return json_response(err.to_dict(), status=exc.status, headers=headers)
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception as exc:
        outage = outage_error(exc)
        if outage is not None:  # a dependency is down: the client may retry, and it is no bug
            log.warning("request failed: %s (%s)", outage.code, type(exc).__name__)
            return error_response(outage)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(AppError())


def standard_middlewares() -> list[Any]:
    """The middlewares every service installs, outermost first."""
    return [trace_middleware, metrics_middleware, error_middleware]


SERVER_NAME = "WagerBabe"


def _must_be_empty(method: str, status: int) -> bool:
    # RFC 9110 6.4.1: no content in an answer to HEAD, a 204 or a 304. (A 101 is left alone: after it the
    # connection carries WebSocket frames, written by their own writer.)
    return method == "HEAD" or status in (204, 304)


async def _harden_response(request: web.Request, response: web.StreamResponse) -> None:
    """Runs as each response (plain, streamed, WebSocket handshake, error) starts, before its headers go out.

    A streamed response answering HEAD has no length and no chunking, yet aiohttp writes whatever the
    handler writes: raw body bytes that a proxy reusing the connection reads as the next answer. A
    declared length of 0 makes the writer drop them, for every streamed handler in one place. The
    ``Server`` header names no version (aiohttp's default gives Python's and aiohttp's).
    """
    if _must_be_empty(request.method, response.status):
        request.writer.length = 0
    response.headers["Server"] = SERVER_NAME


def harden_responses(app: web.Application) -> None:
    """Install ``_harden_response`` on ``app`` (every service's factory calls this)."""
    app.on_response_prepare.append(_harden_response)


def add_health_routes(app: web.Application, checks: Mapping[str, Check], timeout: float = 2.0) -> None:
    """``GET /healthz`` (process up), ``GET /readyz`` (each check passes) and ``GET /metrics``."""

    async def healthz(request: web.Request) -> web.Response:
        return json_response({"status": "ok", "service": request.app.get(SERVICE, "unknown")})

    async def readyz(request: web.Request) -> web.Response:
        results = await run_checks(request.app, checks, timeout)
        failed = {k: v for k, v in results.items() if v != "ok"}
        if failed:
            reason = "; ".join(f"{k}: {v}" for k, v in failed.items())
            return json_response(
                {"error": "not_ready", "message": f"Not ready: {reason}", "details": {"checks": results}},
                status=503,
            )
        return json_response({"status": "ok", "checks": results})

    async def metrics(request: web.Request) -> web.Response:
        resp = web.Response(body=generate_latest())
        resp.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return resp

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)


async def run_checks(app: web.Application, checks: Mapping[str, Check], timeout: float) -> dict[str, str]:
    """Run every readiness check concurrently; each result is "ok" or a short reason."""

    async def one(check: Check) -> str:
        try:
            await asyncio.wait_for(check(app), timeout)
            return "ok"
        except TimeoutError:
            return f"timed out after {timeout:g}s"
        except Exception as exc:  # a failing dependency is a result here, not an error
            return f"{type(exc).__name__}: {exc}"[:200]

    names = list(checks)
    outcomes = await asyncio.gather(*(one(checks[n]) for n in names))
    return dict(zip(names, outcomes, strict=True))


async def start_side_server(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Serve a small health/metrics app beside a daemon (ingest, jobs); the caller cleans it up."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner


def bound_port(runner: web.AppRunner) -> int:
    """The port a started runner listens on (useful with port 0)."""
    for addr in runner.addresses:
        if isinstance(addr, tuple):
            return int(addr[1])
    raise RuntimeError("runner has no TCP address")
