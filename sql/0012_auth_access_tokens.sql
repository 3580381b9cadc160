-- Every access token handed to a session, so that revoking the session denylists all of them that
-- are still alive (after a refresh the previous access token lives on until it expires).
CREATE TABLE session_access_tokens (
    jti        text PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES auth_sessions (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL
);
CREATE INDEX session_access_tokens_session_idx ON session_access_tokens (session_id, expires_at);
