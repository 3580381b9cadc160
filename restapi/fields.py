"""Marshmallow fields and validators that keep hostile input out of SQL and bcrypt.

``Text`` refuses NUL characters and lone surrogates (PostgreSQL and UTF-8 cannot store them, and
letting them through would turn bad input into a 500), trims surrounding whitespace and caps the
length. Every route group uses these.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
LOGIN_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")
PASSWORD_MIN_BYTES = 8
PASSWORD_MAX_BYTES = 72  # bcrypt ignores everything past 72 bytes, so longer is refused, not truncated


def utc(when: datetime) -> datetime:
    """``when`` in UTC. Python accepts zone offsets up to 24 h and PostgreSQL only up to 16 h, so the
    offset is applied here (a far-off year that then leaves the calendar is a 422, not a 500)."""
    try:
        return when.astimezone(UTC)
    except OverflowError:
        raise ValidationError("Date out of range.") from None


def clean_text(value: str) -> str:
    """``value`` if PostgreSQL can store it as UTF-8 text, else ValidationError."""
    if "\x00" in value:
        raise ValidationError("Must not contain NUL characters.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError("Must be valid Unicode text.") from None
    return value


def printable(value: str, limit: int) -> str:
    """``value`` cut to ``limit`` and made storable: headers may carry NUL or undecodable bytes, which
    PostgreSQL refuses, so NUL becomes U+FFFD and a lone surrogate '?'."""
    return value[:limit].replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def client_ip(peer: str, forwarded_for: str, trusted: tuple[str, ...]) -> str:
    """The client's address: the socket peer, unless that is a trusted proxy, then the right-most
    ``X-Forwarded-For`` hop that is not a trusted proxy (hops further left are client-supplied)."""
    if peer not in trusted:
        return peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if hop not in trusted:
            return printable(hop, 64)
    return peer


class Text(fields.String):
    """A string field that is safe to store: no NUL, valid UTF-8, optionally trimmed, bounded."""

    def __init__(self, *, max_length: int = 200, min_length: int = 0, strip: bool = True, lower: bool = False,
                 **kw: Any) -> None:
        given = kw.pop("validate", None)
        validators = [] if given is None else list(given) if isinstance(given, list | tuple) else [given]
        validators.insert(0, validate.Length(min=min_length, max=max_length))
        super().__init__(validate=validators, **kw)
        self.strip = strip
        self.lower = lower
        self.metadata.setdefault("maxLength", max_length)
        if min_length:
            self.metadata.setdefault("minLength", min_length)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        text = clean_text(super()._deserialize(value, attr, data, **kw))
        text = text.strip() if self.strip else text
        return text.lower() if self.lower else text


def normalise_email(value: str) -> str:
    """Emails are stored trimmed and lower-cased (the users table checks it)."""
    return value.strip().lower()


class Email(Text):
    """An email address, normalised (trimmed, lower case)."""

    def __init__(self, **kw: Any) -> None:
        kw.setdefault("metadata", {}).setdefault("example", "player01@wagerbabe.test")
        super().__init__(max_length=254, min_length=3, **kw)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        email = normalise_email(super()._deserialize(value, attr, data, **kw))
        if not EMAIL_RE.match(email):
            raise ValidationError("Not a valid email address.")
        return email


class Password(Text):
    """A password of 8-72 bytes in UTF-8 (bcrypt's limit); never trimmed."""

    def __init__(self, **kw: Any) -> None:
        kw.setdefault("metadata", {}).setdefault("example", "player-pass-123")
        super().__init__(max_length=72, min_length=1, strip=False, **kw)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        password = super()._deserialize(value, attr, data, **kw)
        size = len(password.encode("utf-8"))
        if size < PASSWORD_MIN_BYTES:
            raise ValidationError(f"Must be at least {PASSWORD_MIN_BYTES} bytes.")
        if size > PASSWORD_MAX_BYTES:
            raise ValidationError(f"Must be at most {PASSWORD_MAX_BYTES} bytes in UTF-8 (bcrypt's limit).")
        return password


class ErrorSchema(Schema):
    """The error shape every 4xx/5xx answer has."""

    error = fields.String(required=True, metadata={"example": "validation_error"})
    message = fields.String(required=True, metadata={"example": "Invalid input"})
    details = fields.Dict(required=True, metadata={"example": {"password": ["Must be at least 8 bytes."]}})


class StrictBool(fields.Boolean):
    """Only JSON ``true``/``false``; marshmallow's Boolean would also take "yes", 1 or "off"."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("Not a valid boolean (use true or false).")
        return value
