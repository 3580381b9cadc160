-- Every access token handed to a session, so that revoking the session denylists all of them that
-- are still alive (after a refresh the previous access token lives on until it expires).
CREATE TABLE session_access_tokens (
    jti        text PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES auth_sessions (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL
);
CREATE INDEX session_access_tokens_session_idx ON session_access_tokens (session_id, expires_at);

-- Sessions ended because the agent deactivated the account (revoke_all from the agent hub).
ALTER TABLE auth_sessions DROP CONSTRAINT auth_sessions_revoked_reason_check;
ALTER TABLE auth_sessions ADD CONSTRAINT auth_sessions_revoked_reason_check CHECK (
    revoked_reason IN ('logout', 'logout_all', 'revoked', 'reuse', 'password_reset', 'deactivated'));
