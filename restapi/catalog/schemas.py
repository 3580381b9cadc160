"""Marshmallow schemas of the catalog endpoints (input validation and the OpenAPI document)."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate

KEY = validate.Regexp(r"^[a-z0-9_]{1,64}$", error="must be 1-64 characters of a-z, 0-9 and _")
EVENT_ID = validate.Regexp(r"^[A-Za-z0-9_\-]{1,64}$", error="must be 1-64 characters of A-Z, a-z, 0-9, _ and -")
STATUSES = ("live", "upcoming", "scheduled")


class OddsQuery(Schema):
    """Filters of GET /api/v1/betting/odds."""

    memoize_input = True  # parsed once per distinct query string (restapi.openapi.JsonParser)

    class Meta:
        unknown = EXCLUDE

    sport = fields.String(validate=KEY, metadata={"description": "Sport key, e.g. basketball"})
    league = fields.String(validate=KEY, metadata={"description": "League key, e.g. basketball_nba"})
    status = fields.String(metadata={"description": "Comma-separated: live, upcoming, scheduled (default all three)"})
    event = fields.String(validate=EVENT_ID, metadata={"description": "One event id"})
    books = fields.String(metadata={"description": "Comma-separated book keys, e.g. draftkings,fanduel"})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 100_000))

    @post_load
    def split(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        statuses = tuple(sorted({s.strip() for s in data.get("status", "").split(",") if s.strip()}))
        bad = [s for s in statuses if s not in STATUSES]
        if bad or ("status" in data and not statuses):
            raise ValidationError(f"must be a comma-separated list of {', '.join(STATUSES)}", "status")
        data["statuses"] = statuses or STATUSES
        if "books" in data:
            books = tuple(sorted({b.strip() for b in data["books"].split(",") if b.strip()}))
            errors = []
            for b in books:
                try:
                    KEY(b)
                except ValidationError:
                    errors.append(b)
            if errors or not books or len(books) > 30:
                raise ValidationError("must be 1-30 comma-separated book keys (a-z, 0-9, _)", "books")
            data["books"] = books
        return data


class SportPath(Schema):
    memoize_input = True
    sport = fields.String(required=True, validate=KEY)


class EventPath(Schema):
    memoize_input = True
    event_id = fields.String(required=True, validate=EVENT_ID)


class LeagueOut(Schema):
    key = fields.String()
    title = fields.String()
    american = fields.Boolean()
    popularity = fields.Integer()
    games = fields.Integer(metadata={"description": "Bettable games (live + upcoming + scheduled)"})
    live = fields.Integer()
    upcoming = fields.Integer()
    scheduled = fields.Integer()


class SportOut(Schema):
    key = fields.String()
    title = fields.String()
    american = fields.Boolean()
    games = fields.Integer()
    live = fields.Integer()
    leagues = fields.Integer(metadata={"description": "Leagues with bettable games"})


class SidebarSport(Schema):
    key = fields.String()
    title = fields.String()
    american = fields.Boolean()
    games = fields.Integer()
    live = fields.Integer()
    leagues = fields.List(fields.Nested(LeagueOut))


class SportsOut(Schema):
    sports = fields.List(fields.Nested(SportOut))


class LeaguesOut(Schema):
    sport = fields.String()
    leagues = fields.List(fields.Nested(LeagueOut))


class SidebarOut(Schema):
    sports = fields.List(fields.Nested(SidebarSport))


class OutcomeOut(Schema):
    name = fields.String(metadata={"description": "Team name (h2h, spreads), Over/Under (totals), Draw"})
    price = fields.Integer(metadata={"description": "American odds"})
    point = fields.Float(allow_none=True)
    last_update = fields.String(metadata={"description": "When this book last changed this price"})


class BookMarketOut(Schema):
    key = fields.String(metadata={"description": "h2h, spreads or totals"})
    outcomes = fields.List(fields.Nested(OutcomeOut))


class BookmakerOut(Schema):
    key = fields.String()
    title = fields.String()
    last_update = fields.String()
    markets = fields.List(fields.Nested(BookMarketOut))


class EventOut(Schema):
    id = fields.String()
    sport = fields.String()
    league = fields.String()
    league_title = fields.String()
    home_team = fields.String()
    away_team = fields.String()
    commence_time = fields.String()
    status = fields.String(metadata={"description": "scheduled, upcoming, live, awaiting (past its expected end "
                                                    "with no score: not bettable), final or cancelled"})
    scores = fields.Dict(allow_none=True)
    markets = fields.Dict(metadata={"description": "market -> {open, live_bettable}"})
    bookmakers = fields.List(fields.Nested(BookmakerOut))


class OddsOut(Schema):
    events = fields.List(fields.Nested(EventOut))
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()
    next_offset = fields.Integer(allow_none=True)


class ErrorOut(Schema):
    error = fields.String()
    message = fields.String()
    details = fields.Dict()
