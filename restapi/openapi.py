"""OpenAPI 3 for restapi via aiohttp-apigami: spec at /docs/openapi.json, Swagger UI at /docs."""

from __future__ import annotations

from typing import Any, NoReturn

from aiohttp import web
from aiohttp_apigami import setup_aiohttp_apispec, validation_middleware
from marshmallow import ValidationError

from shared.errors import ValidationFailed

SPEC_URL = "/docs/openapi.json"
# apigami stores validated input under a request key; a typed RequestKey (not a str) avoids
# aiohttp's NotAppKeyWarning, which the test suite turns into an error. Use ``put_into`` with a
# ``web.RequestKey`` of your own, or read ``request[VALIDATED]``.
VALIDATED: web.RequestKey[Any] = web.RequestKey("validated", object)


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
        info={"description": "Pay-per-head sportsbook backend. Errors are always "
                             '`{"error", "message", "details"}`.'},
    )
    app.middlewares.append(validation_middleware)
