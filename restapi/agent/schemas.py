"""Marshmallow schemas of the agent hub: request validation (422 on bad input) and OpenAPI docs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from restapi.fields import Password, Text, utc

MAX_CENTS = 10**12  # ten billion dollars: a typo guard, far above any real book
Cents = fields.Integer  # alias to read the schemas as money

TX_TYPES = ("deposit", "withdrawal", "adjustment", "free_play", "settlement")
METHODS = ("cash", "bank_transfer", "card", "crypto", "other")
STATUSES = ("active", "inactive")


def _id(**kw: Any) -> fields.Integer:
    """A database id: a positive bigint (larger numbers would fail in PostgreSQL, not here)."""
    return fields.Integer(validate=validate.Range(min=1, max=2**63 - 1), **kw)


def _money(**kw: Any) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_CENTS), **kw)


def _positive(**kw: Any) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_CENTS), **kw)



class UtcDateTime(fields.AwareDateTime):
    """An ISO 8601 date-time with a zone, returned in UTC (see ``restapi.fields.utc``)."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(default_timezone=None, **kw)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> datetime:
        return utc(super()._deserialize(value, attr, data, **kw))

class SportLimitsField(fields.Dict):
    """``{"sport_key": max_wager_cents}``."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(keys=fields.String(validate=validate.Regexp(r"^[a-z0-9_]{1,64}$")),
                         values=_positive(), **kw)


class CustomerCreate(Schema):
    login = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9_.-]{3,40}$", error="use 3 to 40 letters, digits, dots, dashes or underscores"))
    password = Password(load_default=None)
    email = fields.Email(load_default=None, validate=validate.Length(max=254))
    display_name = Text(load_default="", max_length=100)
    phone = fields.String(load_default=None, validate=validate.Regexp(
        r"^\+?[0-9 ()-]{5,30}$", error="use 5 to 30 digits, spaces, brackets or dashes, with an optional +"))
    notes = Text(load_default="", max_length=2000)
    agent_id = _id(strict=True, load_default=None)
    credit_limit_cents = _money(load_default=0)
    max_wager_cents = _positive(load_default=None, allow_none=True)
    min_wager_cents = _positive(load_default=None, allow_none=True)
    sport_limits = SportLimitsField(load_default=dict)

    @validates_schema
    def _wager_range(self, data: dict[str, Any], **_: Any) -> None:
        lo, hi = data.get("min_wager_cents"), data.get("max_wager_cents")
        if lo is not None and hi is not None and lo > hi:
            raise ValidationError("must not be more than the largest bet", "min_wager_cents")


class CustomerUpdate(Schema):
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    display_name = Text(max_length=100)
    phone = fields.String(allow_none=True, validate=validate.Regexp(
        r"^\+?[0-9 ()-]{5,30}$", error="use 5 to 30 digits, spaces, brackets or dashes, with an optional +"))
    notes = Text(max_length=2000)
    credit_limit_cents = _money()
    max_wager_cents = _positive(allow_none=True)
    min_wager_cents = _positive(allow_none=True)
    sport_limits = SportLimitsField()


class CustomerListQuery(Schema):
    q = Text(min_length=1, max_length=100)
    status = fields.String(validate=validate.OneOf(STATUSES))
    agent_id = _id()
    balance_below = fields.Integer(validate=validate.Range(min=-MAX_CENTS, max=MAX_CENTS))
    balance_above = fields.Integer(validate=validate.Range(min=-MAX_CENTS, max=MAX_CENTS))
    active_since = UtcDateTime()
    has_open_bets = fields.Boolean()
    sort = fields.String(load_default="login", validate=validate.OneOf(("login", "balance", "last_active",
                                                                         "created")))
    order = fields.String(load_default="asc", validate=validate.OneOf(("asc", "desc")))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = Text(max_length=500)


class CashierMove(Schema):
    player_id = _id(strict=True, required=True)
    amount_cents = _positive(required=True)
    type = fields.String(required=True, validate=validate.OneOf(TX_TYPES))
    reason = Text(required=True, min_length=1, max_length=500)
    override = fields.Boolean(load_default=False)


class BalancesQuery(Schema):
    player_id = _id()
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    cursor = Text(max_length=500)


class RangeQuery(Schema):
    from_ = fields.Date(data_key="from", metadata={"description": "First business day, in the agent's time zone"})
    to = fields.Date(metadata={"description": "Last business day (inclusive), in the agent's time zone"})


class TransactionsQuery(RangeQuery):
    player_id = _id()
    type = fields.String(validate=validate.OneOf((*TX_TYPES, "opening_balance", "bet_risk", "bet_release",
                                                  "bet_win", "bet_loss")))
    include_zero = fields.Boolean(load_default=False, metadata={
        "description": "Also list entries that move no money (a bet's stake being held or released)"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    cursor = Text(max_length=500)


class SummaryQuery(RangeQuery):
    player_id = _id()
    group = fields.String(load_default="day", validate=validate.OneOf(("day", "week")))


class OwnerQuery(Schema):
    agent_id = _id(metadata={"description": "Only this agent's own book (the caller or one of its sub-agents)"})


class ReportQuery(RangeQuery, OwnerQuery):
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))


class SettlementsQuery(OwnerQuery):
    week = fields.Date()
    status = fields.String(validate=validate.OneOf(("pending", "partial", "settled", "overdue", "open")))
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=1000))
    cursor = Text(max_length=500)


class PaymentBody(Schema):
    amount_cents = _positive(required=True)
    method = fields.String(required=True, validate=validate.OneOf(METHODS))
    reference = Text(load_default="", max_length=200)

    @validates_schema
    def _other_needs_reference(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("method") == "other" and not data.get("reference", "").strip():
            raise ValidationError("say what the payment was when the method is Other", "reference")


class ImportBody(Schema):
    csv = fields.String(required=True, validate=validate.Length(min=1, max=2_000_000), metadata={
        "description": "The file: a header line (login, name, email, phone, credit_limit, max_wager, min_wager, "
                       "opening_balance; amounts in dollars) then one customer a line"})
    dry_run = fields.Boolean(load_default=True)
    agent_id = _id(strict=True, load_default=None)


class VerifyQuery(Schema):
    account_id = _id()


class ScheduleBody(Schema):
    timezone = Text(min_length=1, max_length=64)
    close_dow = fields.Integer(strict=True, validate=validate.Range(min=1, max=7))
    close_time = fields.Time()
    reminder_hours = fields.Integer(strict=True, validate=validate.Range(min=1, max=168))
    due_days = fields.Integer(strict=True, validate=validate.Range(min=0, max=30))
    master_can_write = fields.Boolean()


# Where the validation middleware puts each handler's parsed input (typed request keys).
BODY: web.RequestKey[dict[str, Any]] = web.RequestKey("agent_body", dict)
QUERY: web.RequestKey[dict[str, Any]] = web.RequestKey("agent_query", dict)
