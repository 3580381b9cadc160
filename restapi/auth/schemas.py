"""Request and response schemas of the auth routes (OpenAPI and validation; unknown fields refused)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from restapi.fields import LOGIN_RE, Email, Password, Text

ACCESS_EXAMPLE = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjIwMjYxMTI1MTIwMDAwIiwidHlwIjoiSldUIn0.eyJzdWIiOiI3In0.c2ln"
REFRESH_EXAMPLE = "q8cYd3v1mJ0q2m3bJtS9C5p2pPZ3w1kYxk8mKqS9dXo"


class SignupIn(Schema):
    email = Email(required=True)
    password = Password(required=True)
    agent = Text(required=True, min_length=1, max_length=64,
                 metadata={"description": "Login name of the agent whose book the player joins",
                           "example": "agent1"})
    login = Text(load_default=None, max_length=32, lower=True, validate=validate.Regexp(LOGIN_RE, error=(
        "3-32 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter or digit.")),
        metadata={"description": "Login name; derived from the email when left out", "example": "newplayer"})
    display_name = Text(load_default="", max_length=80, metadata={"example": "New Player"})
    device = Text(load_default="", max_length=100, metadata={"description": "Name of this device",
                                                             "example": "Pixel 8"})


class LoginIn(Schema):
    login = Text(required=True, min_length=1, max_length=254, metadata={
        "description": "Login name or email (case and surrounding spaces do not matter)", "example": "player01"})
    password = Text(required=True, min_length=1, max_length=1024, strip=False,
                    metadata={"example": "player-pass-123"})
    device = Text(load_default="", max_length=100, metadata={"description": "Name of this device",
                                                             "example": "iPhone 15"})
    cookie = fields.Boolean(load_default=False, metadata={
        "description": "Web app: keep the refresh token in an httpOnly cookie instead of the answer",
        "example": False})


class RefreshIn(Schema):
    refresh_token = Text(load_default=None, min_length=1, max_length=200, metadata={
        "description": "The refresh token; leave it out to use the web app's refresh cookie",
        "example": REFRESH_EXAMPLE})


class ResetRequestIn(Schema):
    email = Email(required=True)


class ResetConfirmIn(Schema):
    token = Text(required=True, min_length=1, max_length=200, metadata={"example": REFRESH_EXAMPLE})
    password = Password(required=True, metadata={"example": "a-new-pass-456"})


class SessionPath(Schema):
    session_id = fields.UUID(required=True, metadata={"example": "5b0f7c4e-8a51-4d0e-9a43-0c0a1e7c9b21"})


class UserOut(Schema):
    id = fields.Integer(required=True, metadata={"example": 7})
    login = fields.String(required=True, metadata={"example": "player01"})
    email = fields.String(required=True, allow_none=True, metadata={"example": "player01@wagerbabe.test"})
    display_name = fields.String(required=True, metadata={"example": "Ava Reed"})
    phone = fields.String(required=True, allow_none=True, metadata={"example": None})
    role = fields.String(required=True, validate=validate.OneOf(["player", "agent", "admin"]),
                         metadata={"example": "player"})
    agent_id = fields.Integer(required=True, allow_none=True, metadata={"example": 2})
    status = fields.String(required=True, validate=validate.OneOf(["active", "inactive"]),
                           metadata={"example": "active"})
    created_at = fields.DateTime(required=True, metadata={"example": "2026-11-25T12:00:00+00:00"})


class TokensOut(Schema):
    access_token = fields.String(required=True, metadata={"example": ACCESS_EXAMPLE})
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds", "example": 3600})
    refresh_token = fields.String(metadata={"description": "Left out when it went into the web app's cookie",
                                            "example": REFRESH_EXAMPLE})
    refresh_expires_in = fields.Integer(required=True, metadata={"description": "Seconds", "example": 604800})
    session_id = fields.String(required=True, metadata={"example": "5b0f7c4e-8a51-4d0e-9a43-0c0a1e7c9b21"})


class LoginOut(TokensOut):
    user = fields.Nested(UserOut, required=True)


class SessionOut(Schema):
    id = fields.String(required=True, metadata={"example": "5b0f7c4e-8a51-4d0e-9a43-0c0a1e7c9b21"})
    device = fields.String(required=True, metadata={"example": "iPhone 15"})
    user_agent = fields.String(required=True, metadata={"example": "WagerBabe/1.0 (iOS)"})
    ip = fields.String(required=True, metadata={"example": "203.0.113.9"})
    created_at = fields.DateTime(required=True)
    last_used_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True)
    current = fields.Boolean(required=True, metadata={"description": "The session of this request's token"})


class SessionsOut(Schema):
    sessions = fields.List(fields.Nested(SessionOut), required=True)


class RevokedOut(Schema):
    revoked = fields.Integer(required=True, metadata={"description": "Sessions revoked", "example": 3})


class MessageOut(Schema):
    message = fields.String(required=True, metadata={"example": "If an account has that email, a link is on its way."})


class PushTicketOut(Schema):
    ticket = fields.String(required=True, metadata={"example": "pt_Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eA"})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds", "example": 30})


class JwkOut(Schema):
    kty = fields.String(required=True, metadata={"example": "RSA"})
    kid = fields.String(required=True, metadata={"example": "20261125120000"})
    use = fields.String(required=True, metadata={"example": "sig"})
    alg = fields.String(required=True, metadata={"example": "RS256"})
    n = fields.String(required=True)
    e = fields.String(required=True, metadata={"example": "AQAB"})
    key_ops = fields.List(fields.String(), metadata={"example": ["verify"]})


class JwksOut(Schema):
    keys = fields.List(fields.Nested(JwkOut), required=True)
