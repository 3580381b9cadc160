-- Per-account login throttling, kept in PostgreSQL so that losing Redis does not reset it.
-- login_throttle: failed logins of one account from any address (forgotten after a quiet window),
-- and when an address that never logged this account in may try again (the slow-down).
CREATE TABLE login_throttle (
    user_id         bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    failures        integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    last_failure_at timestamptz NOT NULL,
    next_at         timestamptz NOT NULL
);
-- login_failures: failed logins of one account from one address in the current window (the block).
CREATE TABLE login_failures (
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ip           text NOT NULL,
    failures     integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    window_start timestamptz NOT NULL,
    PRIMARY KEY (user_id, ip)
);
CREATE INDEX login_failures_window_idx ON login_failures (window_start);
-- "Has this address logged this account in lately?" is asked on every login attempt.
CREATE INDEX auth_sessions_user_ip_idx ON auth_sessions (user_id, ip, created_at);
