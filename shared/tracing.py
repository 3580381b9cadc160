"""W3C trace context: parse and make `traceparent` values and carry the current one in a contextvar."""

from __future__ import annotations

import contextvars
import os
import re
from dataclasses import dataclass

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


@dataclass(frozen=True, slots=True)
class TraceContext:
    """One span's identity: the trace it belongs to and its own span id."""

    trace_id: str
    span_id: str
    flags: str = "01"

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"

    def child(self) -> TraceContext:
        """A new span in the same trace (for an outgoing message or request)."""
        return TraceContext(self.trace_id, os.urandom(8).hex(), self.flags)


_current: contextvars.ContextVar[TraceContext | None] = contextvars.ContextVar("trace", default=None)


def new_trace() -> TraceContext:
    """Start a fresh trace."""
    ids = os.urandom(24).hex()  # one call for both ids: this runs on every request without a traceparent
    return TraceContext(ids[:32], ids[32:])


def parse_traceparent(value: str | None) -> TraceContext | None:
    """Parse a `traceparent` header; None when absent or malformed (all-zero ids are invalid)."""
    if not value:
        return None
    m = _TRACEPARENT.match(value.strip().lower())
    if not m or set(m.group(1)) == {"0"} or set(m.group(2)) == {"0"}:
        return None
    return TraceContext(m.group(1), m.group(2), m.group(3))


def continue_trace(traceparent: str | None) -> TraceContext:
    """Join the caller's trace as a new child span, or start a new trace."""
    parent = parse_traceparent(traceparent)
    return parent.child() if parent else new_trace()


def current() -> TraceContext | None:
    """The trace context of the running task, if any."""
    return _current.get()


def set_current(ctx: TraceContext | None) -> contextvars.Token[TraceContext | None]:
    """Make ``ctx`` current for this task; returns a token for ``reset``."""
    return _current.set(ctx)


def reset(token: contextvars.Token[TraceContext | None]) -> None:
    """Undo ``set_current``."""
    _current.reset(token)


def outgoing_traceparent() -> str:
    """The `traceparent` to put on an outgoing message: a child of the current span, or a new trace."""
    ctx = _current.get()
    return (ctx.child() if ctx else new_trace()).traceparent
