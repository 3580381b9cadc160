-- Revocation lives in PostgreSQL; Redis only caches it (deny:jti / live:jti keys), so losing Redis
-- never brings a revoked access token back. A token of a session is revoked when its session is
-- (auth_sessions.revoked_at, found through session_access_tokens); this table records the access
-- tokens revoked one by one (logout), including tokens that belong to no session.
CREATE TABLE revoked_access_tokens (
    jti        text PRIMARY KEY,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX revoked_access_tokens_expires_idx ON revoked_access_tokens (expires_at);
