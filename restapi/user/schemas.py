"""Request and response schemas of the user routes."""

from __future__ import annotations

import re

from marshmallow import Schema, ValidationError, fields, validate, validates

from restapi.fields import Email, StrictBool, Text
from restapi.user.service import ODDS_FORMATS, PRICE_CHANGE_POLICIES, valid_timezone

PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()-]{4,24}$")


class ProfilePatch(Schema):
    display_name = Text(min_length=1, max_length=80, metadata={"example": "Ava R."})
    email = Email()
    phone = Text(allow_none=True, max_length=26, validate=validate.Regexp(
        PHONE_RE, error="Digits, spaces, '()' and '-' with an optional leading '+'."),
        metadata={"example": "+1 555 0100", "description": "null removes it"})


class Notifications(Schema):
    bet_accepted = StrictBool(required=True, metadata={"example": True})
    bet_graded = StrictBool(required=True, metadata={"example": True})
    balance = StrictBool(required=True, metadata={"example": True})
    settlement = StrictBool(required=True, metadata={"example": True})
    email = StrictBool(required=True, metadata={"example": False,
                                                                  "description": "Also mail these events"})


class PreferencesSchema(Schema):
    odds_format = fields.String(required=True, validate=validate.OneOf(ODDS_FORMATS),
                                metadata={"example": "american"})
    default_stake_cents = fields.Integer(required=True, strict=True,
                                         validate=validate.Range(min=1, max=100_000_000),
                                         metadata={"example": 2500, "description": "Stake the slip starts with"})
    timezone = Text(required=True, min_length=1, max_length=64, metadata={"example": "America/New_York",
                                                                          "description": "IANA zone name"})
    notifications = fields.Nested(Notifications, required=True)
    accept_price_changes = fields.String(
        required=True, validate=validate.OneOf(PRICE_CHANGE_POLICIES), metadata={
            "example": "better",
            "description": "When a price moved before the bet: none = refuse, better = accept only a "
                           "better price, any = accept any price"})

    @validates("timezone")
    def _tz(self, value: str, **_kw: object) -> None:
        if not valid_timezone(value):
            raise ValidationError("Unknown time zone; use an IANA name such as Europe/London.")
