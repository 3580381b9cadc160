"""The one exception hierarchy of WagerBabe.

    AppError (500 internal)
    ├── BadRequest (400 bad_request)
    │   ├── ValidationFailed (422 validation_error)
    │   │   └── shared.odds.OddsError (422, code per instance: invalid_odds, parlay_too_long, ...)
    │   ├── PayloadTooLarge (413 payload_too_large)
    │   └── pushd.protocol.ProtocolError (400, code per instance; a WebSocket client's mistake)
    ├── Unauthorized (401 unauthorized)
    ├── Forbidden (403 forbidden)
    ├── NotFound (404 not_found)
    ├── MethodNotAllowed (405 method_not_allowed)
    ├── RequestTimeout (408 request_timeout)
    ├── Conflict (409 conflict)
    │   └── PriceChanged (409 price_changed)
    ├── RateLimited (429 rate_limited)
    ├── Unavailable (503 unavailable)
    └── shared.config.ConfigError (500 config_error; a setting is missing or malformed at start-up)

OddsError and ConfigError are also ValueErrors, as they were before they joined the tree.
restapi's middleware maps each class to ``{"error": code, "message", "details"}`` with its status;
pushd maps the same classes to WebSocket close codes (``ws_close``).
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """Base of every error a client may see."""

    status: int = 500
    code: str = "internal"
    ws_close: int = 1011
    default_message: str = "Internal server error"

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = details or {}
        if code:
            self.code = code
        self.headers = headers or {}
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        """The JSON body clients receive."""
        return {"error": self.code, "message": self.message, "details": self.details}


class BadRequest(AppError):
    """The request is malformed."""

    status, code, ws_close, default_message = 400, "bad_request", 4000, "Bad request"


class ValidationFailed(BadRequest):
    """The request is well-formed but a field is invalid; ``details`` maps field -> messages."""

    status, code, default_message = 422, "validation_error", "Invalid input"


class PayloadTooLarge(BadRequest):
    """The body or frame is larger than allowed."""

    status, code, ws_close, default_message = 413, "payload_too_large", 1009, "Request body too large"


class Unauthorized(AppError):
    """Missing, invalid or expired credentials."""

    status, code, ws_close, default_message = 401, "unauthorized", 4001, "Authentication required"


class Forbidden(AppError):
    """Authenticated, but not allowed."""

    status, code, ws_close, default_message = 403, "forbidden", 4003, "Not allowed"


class NotFound(AppError):
    """The resource does not exist (or is not visible to the caller)."""

    status, code, ws_close, default_message = 404, "not_found", 4004, "Not found"


class MethodNotAllowed(AppError):
    """The route exists but not with this method."""

    status, code, default_message = 405, "method_not_allowed", "Method not allowed"


class RequestTimeout(AppError):
    """The client sent its request too slowly (headers or body past their read timeout)."""

    status, code, default_message = 408, "request_timeout", "The request took too long to arrive"


class Conflict(AppError):
    """The request conflicts with the current state."""

    status, code, ws_close, default_message = 409, "conflict", 4009, "Conflict"


class PriceChanged(Conflict):
    """A price the client saw is no longer on offer; ``details`` carries the new prices."""

    code, default_message = "price_changed", "The price changed"


class RateLimited(AppError):
    """Too many requests; ``retry_after`` seconds until the next one is allowed."""

    status, code, ws_close, default_message = 429, "rate_limited", 4029, "Too many requests"

    def __init__(self, message: str | None = None, *, retry_after: int = 1, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = max(1, int(retry_after))
        self.headers.setdefault("Retry-After", str(self.retry_after))
        self.details.setdefault("retry_after", self.retry_after)


class Unavailable(AppError):
    """A dependency is down; retry later."""

    status, code, ws_close, default_message = 503, "unavailable", 1013, "Service unavailable"

    def __init__(self, message: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.headers.setdefault("Retry-After", "1")  # clients (and proxies) know when to try again
