"""OpenAPI 3 for restapi via aiohttp-apigami: spec at /docs/openapi.json, Swagger UI at /docs.

Also the pieces every route group's handlers share: ``BEARER`` (the security marker),
``error_responses`` (documents the error shape per status) and the typed request keys
``BODY``/``QUERY``/``PATH`` that validated input goes under (``put_into=``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import orjson
from aiohttp import web
from aiohttp_apigami import response_schema, setup_aiohttp_apispec, validation_middleware
from aiohttp_apigami.constants import APISPEC_PARSER, SWAGGER_DICT
from marshmallow import Schema, ValidationError
from webargs import core
from webargs.aiohttpparser import AIOHTTPParser, is_json_request

from restapi.fields import ErrorSchema
from shared.errors import BadRequest, ValidationFailed

SPEC_URL = "/docs/openapi.json"
# ``docs(security=BEARER)`` marks a route that needs ``Authorization: Bearer <access JWT>``.
BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
SECURITY_SCHEMES: dict[str, dict[str, str]] = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT (RS256, kid)"}
}
# apigami stores validated input under a request key; a typed RequestKey (not a str) avoids
# aiohttp's NotAppKeyWarning, which the test suite turns into an error. Use ``put_into`` with a
# ``web.RequestKey`` of your own, or read ``request[VALIDATED]``.
VALIDATED: web.RequestKey[Any] = web.RequestKey("validated", object)
# Where the route groups put validated input: the JSON body, the query string, the path parameters.
BODY: web.RequestKey[dict[str, Any]] = web.RequestKey("body", dict)
QUERY: web.RequestKey[dict[str, Any]] = web.RequestKey("query", dict)
PATH: web.RequestKey[dict[str, Any]] = web.RequestKey("path", dict)

H = TypeVar("H", bound=Callable[..., Any])


def error_responses(*codes: int) -> Callable[[H], H]:
    """Document the error shape for each status in ``codes`` (``response_schema(ErrorSchema, code)``)."""
    def wrap(handler: H) -> H:
        for code in codes:
            handler = response_schema(ErrorSchema, code, description="Error (see `error` for the reason)")(handler)
        return handler
    return wrap


def validation_error(error: ValidationError, req: web.Request, schema: Any, *args: Any, **kw: Any) -> NoReturn:
    """Turn a marshmallow error into our 422 shape: ``details`` maps each field to its messages."""
    messages = error.messages
    details: dict[str, Any] = {}
    if isinstance(messages, dict):
        for location, fields in messages.items():
            if isinstance(fields, dict):
                details.update(fields)
            else:
                details[str(location)] = fields
    else:
        details["body"] = messages
    raise ValidationFailed("Invalid input", details=details)


class JsonParser(AIOHTTPParser):
    """webargs' aiohttp parser with bodies decoded by orjson.

    The stock parser uses ``json.loads``, which turns deeply nested arrays into a RecursionError and
    a 5000-digit number into a ValueError: both 500s. orjson bounds nesting, refuses lone surrogates
    and invalid UTF-8, and reports them all as a decode error, answered here as 400 ``invalid_json``.
    """

    async def load_json(self, req: web.Request, schema: Schema) -> Any:
        if not (req.body_exists and is_json_request(req)):
            return core.missing
        raw = await req.read()
        if not raw.strip():
            return core.missing
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"Body is not valid UTF-8 JSON: {exc.msg}", code="invalid_json") from None


def setup_openapi(app: web.Application, version: str) -> None:
    """Register the spec and Swagger UI, and validate every decorated handler's input."""
    setup_aiohttp_apispec(
        app,
        title="WagerBabe API",
        version=version,
        url=SPEC_URL,
        swagger_path="/docs",
        static_path="/docs/static",
        openapi_version="3.0.2",
        error_callback=validation_error,
        request_data_name=VALIDATED,  # type: ignore[arg-type]  # apigami types it str; a RequestKey works
        info={"description": "Pay-per-head sportsbook backend. Errors are always "
                             '`{"error", "message", "details"}`.'},
    )
    app[APISPEC_PARSER] = JsonParser(error_handler=validation_error)
    app.middlewares.append(validation_middleware)
    app.on_startup.append(_add_security_schemes)


async def _add_security_schemes(app: web.Application) -> None:
    # Runs after apigami built the spec on startup (its hook was appended first).
    spec = app[SWAGGER_DICT]
    spec.setdefault("components", {}).setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    document_common_errors(spec)


# What the shared machinery (not the handler) may answer, by what an operation takes. Each is the
# JSON error shape; ``document_common_errors`` adds them to every operation of the served spec.
COMMON_ERRORS: dict[int, str] = {
    400: "Malformed request: body not JSON, a required header missing or malformed",
    401: "No valid access token (missing, expired, revoked)",
    404: "No such resource (an id in the path that is not one, or not visible to the caller)",
    408: "The request body arrived too slowly (`RESTAPI_BODY_TIMEOUT`)",
    413: "The request body is larger than `RESTAPI_MAX_BODY_BYTES`",
    422: "A field or parameter is invalid; `details` names each",
    429: "Too many requests: `Retry-After` says when to retry",
    503: "Sessions cannot be checked right now (Redis is down); retry shortly",
}
ERROR_SCHEMA_REF = {"$ref": "#/components/schemas/Error"}


def answers(success: dict[int, str], *errors: int) -> dict[int, dict[str, Any]]:
    """``docs(responses=…)`` of a handler without a response schema: its success statuses (code ->
    description) and the errors it raises itself (the common ones are added by ``document_common_errors``)."""
    out: dict[int, dict[str, Any]] = {code: {"description": text} for code, text in success.items()}
    for code in errors:
        out[code] = {"description": HANDLER_ERRORS[code],
                     "content": {"application/json": {"schema": ERROR_SCHEMA_REF}}}
    return out


HANDLER_ERRORS: dict[int, str] = {
    403: "The caller's role may not do this (or may only read this sub-agent's book)",
    404: "Not found in the caller's book",
    409: "Conflicts with the current state (taken, already so, deactivated, key reused, already settled)",
}


def common_error_codes(op: dict[str, Any]) -> set[int]:
    """The statuses the shared middleware and parsers can answer for ``op`` (an OpenAPI operation)."""
    codes: set[int] = set()
    if op.get("security"):
        codes |= {401, 429, 503}
    if op.get("requestBody"):
        codes |= {400, 408, 413, 422}
    where = {p.get("in") for p in op.get("parameters", [])}
    if "query" in where:
        codes.add(422)
    if "path" in where:
        codes.add(404)
    if "header" in where:
        codes.add(400)
    return codes


def document_common_errors(spec: dict[str, Any]) -> None:
    """Add each operation's common error statuses (``common_error_codes``) to its ``responses``."""
    for item in spec.get("paths", {}).values():
        for method, op in item.items():
            if method not in ("get", "head", "post", "put", "patch", "delete") or not isinstance(op, dict):
                continue
            responses = op.setdefault("responses", {})
            for code in sorted(common_error_codes(op)):
                if str(code) not in responses and code not in responses:
                    responses[str(code)] = {"description": COMMON_ERRORS[code],
                                            "content": {"application/json": {"schema": ERROR_SCHEMA_REF}}}
