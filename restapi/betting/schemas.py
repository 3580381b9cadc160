"""Request and response schemas of the betting routes (OpenAPI and validation; unknown fields refused)."""

from __future__ import annotations

import decimal
import re
from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from restapi.betting.pricing import MARKETS
from restapi.fields import Text, utc
from shared.odds import MAX_AMERICAN, MIN_AMERICAN

BOOK_RE = r"^[a-z0-9_]+$"
MAX_CENTS = 10**12  # far above any limit, far below bigint: keeps absurd numbers out of SQL
MAX_POINT = decimal.Decimal("99999.99")  # numeric(7, 2)
OFFSET_SPACE = re.compile(r"(?<=\d) (\d{2}:?\d{2})$")
STATUSES = ("open", "won", "lost", "push", "void")


class StrictInt(fields.Integer):
    """A JSON integer: refuses floats (1.5 or 2.0), strings and booleans."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(strict=True, **kw)

    def _validated(self, value: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


def _american(value: int) -> None:
    if abs(value) < MIN_AMERICAN or abs(value) > MAX_AMERICAN:
        raise ValidationError("American odds are <= -100 or >= +100 (e.g. -110, +150).")


class Point(fields.Decimal):
    """A spread or total line with at most two decimals (the catalog's numeric(7, 2))."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(allow_nan=False, **kw)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> decimal.Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError("Must be a number such as -5.5.")
        point = super()._deserialize(value, attr, data, **kw)
        # Magnitude first: quantizing 1e308 to cents overflows the context (InvalidOperation).
        if point is None or abs(point) > MAX_POINT or point != point.quantize(decimal.Decimal("0.01")):
            raise ValidationError("At most two decimals and |point| <= 99999.99.")
        return point


class Instant(fields.Field):
    """An ISO 8601 date or date-time; without a zone it is UTC (``2026-02-01`` is that day's 00:00 UTC)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> datetime:
        if not isinstance(value, str) or len(value) > 40:
            raise ValidationError("Not a valid date or datetime.")
        try:
            # An unescaped '+' of a zone offset arrives from a query string as a space.
            when = datetime.fromisoformat(OFFSET_SPACE.sub(r"+\1", value))
        except ValueError:
            raise ValidationError("Not a valid date or datetime (ISO 8601).") from None
        return utc(when if when.tzinfo else when.replace(tzinfo=UTC))


class SelectionIn(Schema):
    event_id = Text(required=True, min_length=1, max_length=100, metadata={"example": "e8a1c2f0"})
    market = fields.String(required=True, validate=validate.OneOf(MARKETS), metadata={"example": "spreads"})
    outcome = Text(required=True, min_length=1, max_length=100, metadata={
        "example": "Boston Celtics", "description": "Team name (h2h, spreads), 'Draw', or 'Over'/'Under' (totals)"})
    point = Point(load_default=None, allow_none=True, metadata={
        "example": -5.5, "description": "The line seen (spreads, totals); null for h2h"})
    book = Text(load_default=None, allow_none=True, max_length=50, validate=validate.Regexp(BOOK_RE), metadata={
        "example": "draftkings", "description": "The book whose price was seen; left out: the house picks"})
    price = StrictInt(required=True, validate=_american, metadata={
        "example": -110, "description": "American odds the player saw"})


class QuoteSelectionIn(SelectionIn):
    price = StrictInt(load_default=None, allow_none=True, validate=_american, metadata={
        "example": -110, "description": "American odds seen; left out: the current price is used"})
    stake_cents = StrictInt(load_default=None, allow_none=True, validate=validate.Range(min=1, max=MAX_CENTS),
                            metadata={"example": 1100, "description": "Stake of this selection as a straight bet"})


class BetIn(Schema):
    type = fields.String(required=True, validate=validate.OneOf(("straight", "parlay")),
                         metadata={"example": "parlay"})
    stake_cents = StrictInt(required=True, validate=validate.Range(min=1, max=MAX_CENTS),
                            metadata={"example": 1000, "description": "Whole cents"})
    selections = fields.List(fields.Nested(SelectionIn), required=True, validate=validate.Length(min=1, max=50))

    @validates_schema
    def _straight_has_one(self, data: dict[str, Any], **_kw: Any) -> None:
        if data.get("type") == "straight" and len(data.get("selections", ())) != 1:
            raise ValidationError("A straight bet has exactly one selection.", "selections")


class QuoteIn(Schema):
    selections = fields.List(fields.Nested(QuoteSelectionIn), required=True,
                             validate=validate.Length(min=1, max=50))
    parlay_stake_cents = StrictInt(load_default=None, allow_none=True,
                                   validate=validate.Range(min=1, max=MAX_CENTS), metadata={"example": 1000})


class SlipIn(Schema):
    selections = fields.List(fields.Nested(QuoteSelectionIn), required=True, validate=validate.Length(max=100))
    parlay_stake_cents = StrictInt(load_default=None, allow_none=True,
                                   validate=validate.Range(min=1, max=MAX_CENTS), metadata={"example": 1000})


class HistoryQuery(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    bet_type = fields.String(load_default=None, data_key="type", validate=validate.OneOf(("straight", "parlay")),
                             metadata={"description": "straight or parlay"})
    sport = fields.String(load_default=None, validate=[validate.Length(max=64), validate.Regexp(BOOK_RE)],
                          metadata={"description": "A sport ('basketball') or league key ('basketball_nba')"})
    since = Instant(load_default=None, data_key="from",
                    metadata={"description": "Placed at or after (ISO 8601 date or date-time; no zone means UTC)"})
    until = Instant(load_default=None, data_key="to",
                    metadata={"description": "Placed before (ISO 8601 date or date-time; no zone means UTC)"})
    cursor = fields.String(load_default=None, validate=validate.Length(max=40))
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=1000),
                           metadata={"description": "Bets per page (capped by BETTING_PAGE_MAX)"})


class RegradeLegIn(Schema):
    leg_no = StrictInt(required=True, validate=validate.Range(min=1, max=100))
    result = fields.String(required=True, validate=validate.OneOf(("won", "lost", "push", "void", "pending")))


class RegradeIn(Schema):
    reason = Text(required=True, min_length=3, max_length=500,
                  metadata={"example": "Score corrected by the league: 101-99, not 99-101"})
    legs = fields.List(fields.Nested(RegradeLegIn), required=True, validate=validate.Length(min=1, max=50))


class ScoreCorrectionIn(Schema):
    reason = Text(required=True, min_length=3, max_length=500,
                  metadata={"example": "Stat correction from the league: 101-99, not 99-101"})
    status = fields.String(load_default="final", validate=validate.OneOf(("final", "cancelled")),
                           metadata={"description": "cancelled voids every leg on the event"})
    home_score = StrictInt(load_default=None, allow_none=True, validate=validate.Range(min=0, max=10_000),
                           metadata={"example": 101})
    away_score = StrictInt(load_default=None, allow_none=True, validate=validate.Range(min=0, max=10_000),
                           metadata={"example": 99})

    @validates_schema
    def _final_has_scores(self, data: dict[str, Any], **_kw: Any) -> None:
        if data.get("status", "final") == "final":
            missing = [k for k in ("home_score", "away_score") if data.get(k) is None]
            if missing:
                raise ValidationError({k: ["A final result needs both scores."] for k in missing})


# --- responses ---------------------------------------------------------------------------------

class LegOut(Schema):
    leg_no = fields.Integer(required=True, metadata={"example": 1})
    event_id = fields.String(required=True)
    sport = fields.String(required=True, metadata={"example": "basketball"})
    league = fields.String(required=True, metadata={"example": "basketball_nba"})
    home_team = fields.String(required=True)
    away_team = fields.String(required=True)
    commence_time = fields.DateTime(required=True)
    market = fields.String(required=True)
    outcome = fields.String(required=True)
    point = fields.Float(required=True, allow_none=True)
    book = fields.String(required=True)
    book_title = fields.String(metadata={"description": "The book's name as players know it (in history)",
                                         "example": "FanDuel"})
    price = fields.Integer(required=True, metadata={"description": "Accepted American odds"})
    price_seen = fields.Integer(required=True)
    point_seen = fields.Float(required=True, allow_none=True)
    live = fields.Boolean(required=True)
    result = fields.String(required=True, validate=validate.OneOf(("pending",) + STATUSES[1:]))
    graded_at = fields.DateTime(required=True, allow_none=True)


class BetOut(Schema):
    id = fields.Integer(required=True, metadata={"example": 1042})
    type = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    stake_cents = fields.Integer(required=True)
    potential_payout_cents = fields.Integer(required=True, metadata={"description": "Total return if it wins"})
    payout_cents = fields.Integer(required=True, allow_none=True, metadata={"description": "Paid when settled"})
    placed_at = fields.DateTime(required=True)
    settled_at = fields.DateTime(required=True, allow_none=True)
    regraded_at = fields.DateTime(required=True, allow_none=True)
    legs = fields.List(fields.Nested(LegOut), required=True)


class PlacedOut(BetOut):
    available_cents = fields.Integer(required=True, metadata={"description": "Available credit after the bet"})


class HistoryOut(Schema):
    bets = fields.List(fields.Nested(BetOut), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


class LineOut(Schema):
    price = fields.Integer(required=True)
    point = fields.Float(required=True, allow_none=True)
    last_update = fields.DateTime(required=True)


class SelectionOut(Schema):
    id = fields.String(required=True, metadata={"example": "3f1c9a7b2d4e6f80"})
    event_id = fields.String(required=True)
    market = fields.String(required=True)
    outcome = fields.String(required=True)
    point = fields.Float(required=True, allow_none=True, metadata={"description": "Point seen"})
    book = fields.String(required=True, allow_none=True)
    price = fields.Integer(required=True, allow_none=True, metadata={"description": "Price seen"})
    stake_cents = fields.Integer(required=True, allow_none=True)
    current = fields.Nested(LineOut, required=True, allow_none=True, metadata={"description": "null: off the board"})
    moved = fields.Boolean(required=True)
    off_board = fields.Boolean(required=True)
    error = fields.Dict(required=True, allow_none=True, metadata={"description": "Why it cannot be bet now"})
    payout_cents = fields.Integer(required=True, allow_none=True, metadata={"description": "Straight return"})
    event = fields.Dict(required=True, allow_none=True)


class ParlayOut(Schema):
    legs = fields.Integer(required=True)
    stake_cents = fields.Integer(required=True, allow_none=True)
    american = fields.Integer(required=True, allow_none=True, metadata={"description": "Combined odds"})
    decimal = fields.String(required=True, allow_none=True, metadata={"example": "6.96"})
    payout_cents = fields.Integer(required=True, allow_none=True)
    error = fields.Dict(required=True, allow_none=True)


class QuoteOut(Schema):
    selections = fields.List(fields.Nested(SelectionOut), required=True)
    parlay = fields.Nested(ParlayOut, required=True)


class SlipOut(QuoteOut):
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds the slip lives unless changed"})


class RegradedBetOut(Schema):
    bet_id = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    payout_cents = fields.Integer(required=True, allow_none=True)


class EventRegradeOut(Schema):
    event_id = fields.String(required=True)
    status = fields.String(required=True)
    home_score = fields.Integer(required=True, allow_none=True)
    away_score = fields.Integer(required=True, allow_none=True)
    bets = fields.List(fields.Nested(RegradedBetOut), required=True,
                       metadata={"description": "Every bet in the caller's book with a leg on the event, as it is now"})
    ungradable = fields.List(fields.Dict(), required=True,
                             metadata={"description": "Legs this score cannot grade (left as they were)"})
