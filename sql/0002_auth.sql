-- Auth: sessions per device (one refresh-token family each), rotating refresh tokens stored hashed,
-- single-use password reset tokens, and each user's preferences.

-- One row per logged-in device. The refresh tokens of a session form one family: reuse of a rotated
-- token revokes the whole session. access_jti/access_exp name the newest access token handed to
-- the session so revoking it can denylist that token too.
CREATE TABLE auth_sessions (
    id             uuid PRIMARY KEY,
    user_id        bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device         text NOT NULL DEFAULT '',
    user_agent     text NOT NULL DEFAULT '',
    ip             text NOT NULL DEFAULT '',
    access_jti     text,
    access_exp     timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_used_at   timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    revoked_at     timestamptz,
    revoked_reason text CHECK (revoked_reason IN ('logout', 'logout_all', 'revoked', 'reuse', 'password_reset'))
);
CREATE INDEX auth_sessions_user_active_idx ON auth_sessions (user_id) WHERE revoked_at IS NULL;

-- token_hash = sha256 of the opaque token; the token itself is never stored.
CREATE TABLE refresh_tokens (
    token_hash  bytea PRIMARY KEY,
    session_id  uuid NOT NULL REFERENCES auth_sessions (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

CREATE TABLE password_resets (
    token_hash  bytea PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX password_resets_user_idx ON password_resets (user_id);

-- A user without a row has the defaults below (the API answers them without writing a row).
CREATE TABLE user_preferences (
    user_id              bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    odds_format          text NOT NULL DEFAULT 'american' CHECK (odds_format IN ('american', 'decimal')),
    default_stake_cents  bigint NOT NULL DEFAULT 1000 CHECK (default_stake_cents > 0),
    timezone             text NOT NULL DEFAULT 'UTC',
    notify_bet_accepted  boolean NOT NULL DEFAULT true,
    notify_bet_graded    boolean NOT NULL DEFAULT true,
    notify_balance       boolean NOT NULL DEFAULT true,
    notify_settlement    boolean NOT NULL DEFAULT true,
    notify_email         boolean NOT NULL DEFAULT false,
    accept_price_changes text NOT NULL DEFAULT 'none' CHECK (accept_price_changes IN ('none', 'better', 'any')),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
