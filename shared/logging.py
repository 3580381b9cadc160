"""JSON-lines logging with the current trace id and redaction of secrets and personal data.

Each line: ``{"ts", "level", "service", "logger", "trace_id", "message", ...fields}``. Pass fields
with ``log.info("bet placed", extra={"fields": {...}})``. Keys that name secrets or personal data
(password, token, authorization, email, phone, …) are masked wherever they appear in the fields.
"""

from __future__ import annotations

import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

import orjson

from shared import tracing

SENSITIVE = (
    "password",
    "passwd",
    "secret",
    "token",
    "authorization",
    "cookie",
    "api_key",
    "apikey",
    "email",
    "phone",
    "ticket",
)
REDACTED = "[redacted]"


def redact(value: Any) -> Any:
    """Return ``value`` with sensitive keys masked, recursively through dicts and lists."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            key = str(k).lower()
            out[k] = REDACTED if any(s in key for s in SENSITIVE) else redact(v)
        return out
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object per line."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        ctx = tracing.current()
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "trace_id": getattr(record, "trace_id", None) or (ctx.trace_id if ctx else None),
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            for k, v in redact(fields).items():
                doc.setdefault(k, v)
        if record.exc_info:
            doc["exc"] = "".join(traceback.format_exception(*record.exc_info))[-4000:]
        return orjson.dumps(doc, default=str).decode()


def configure(service: str, level: str = "INFO", stream: Any = None) -> logging.Handler:
    """Send every log record to ``stream`` (stderr) as JSON lines; call once, from ``__main__``."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # aiohttp's own access log duplicates ours (which carries the trace id).
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    return handler
