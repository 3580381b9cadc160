"""SQL of the auth route group (parametrised constants only)."""

from __future__ import annotations

USER_COLUMNS = "u.id, u.login, u.email, u.display_name, u.phone, u.role, u.agent_id, u.status, u.created_at"

SELECT_USER_BY_LOGIN = f"SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.login = %(login)s"
SELECT_USER_BY_EMAIL = f"SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.email = %(email)s"
SELECT_USER = f"SELECT {USER_COLUMNS} FROM users u WHERE u.id = %(id)s"

SELECT_AGENT_BY_LOGIN = "SELECT id FROM users WHERE login = %(login)s AND role = 'agent' AND status = 'active'"

INSERT_USER = f"""
INSERT INTO users AS u (login, email, password_hash, display_name, role, agent_id)
VALUES (%(login)s, %(email)s, %(password_hash)s, %(display_name)s, 'player', %(agent_id)s)
RETURNING {USER_COLUMNS}
"""

INSERT_SESSION = """
INSERT INTO auth_sessions (id, user_id, device, user_agent, ip, access_jti, access_exp, expires_at)
VALUES (%(id)s, %(user_id)s, %(device)s, %(user_agent)s, %(ip)s, %(access_jti)s, to_timestamp(%(access_exp)s),
        now() + make_interval(secs => %(ttl)s))
"""

INSERT_REFRESH = """
INSERT INTO refresh_tokens (token_hash, session_id, expires_at)
VALUES (%(token_hash)s, %(session_id)s, now() + make_interval(secs => %(ttl)s))
"""

# Locks the token and its session so two refreshes of one token are serialised: the second sees
# used_at set and is treated as reuse.
SELECT_REFRESH_FOR_UPDATE = """
SELECT rt.session_id, rt.used_at IS NOT NULL, rt.expires_at <= now(), s.revoked_at IS NOT NULL,
       s.revoked_reason, u.id, u.role, u.agent_id, u.status,
       COALESCE(rt.used_at > now() - make_interval(secs => %(grace)s), false)
FROM refresh_tokens rt
JOIN auth_sessions s ON s.id = rt.session_id
JOIN users u ON u.id = s.user_id
WHERE rt.token_hash = %(token_hash)s
FOR UPDATE OF rt, s
"""

MARK_REFRESH_USED = "UPDATE refresh_tokens SET used_at = now() WHERE token_hash = %(token_hash)s"

TOUCH_SESSION = """
UPDATE auth_sessions
SET access_jti = %(access_jti)s, access_exp = to_timestamp(%(access_exp)s), last_used_at = now(),
    expires_at = now() + make_interval(secs => %(ttl)s)
WHERE id = %(id)s
"""

INSERT_ACCESS = """
INSERT INTO session_access_tokens (jti, session_id, expires_at)
VALUES (%(jti)s, %(session_id)s, to_timestamp(%(exp)s))
"""

# Each revoke answers one row per revoked session and live access token (jti NULL when none is
# alive), so the caller can denylist every access token the sessions still have out.
_REVOKED_TOKENS = """
SELECT r.id, t.jti, extract(epoch FROM t.expires_at)::bigint
FROM revoked r
LEFT JOIN session_access_tokens t ON t.session_id = r.id AND t.expires_at > now()
"""

REVOKE_SESSION = """
WITH revoked AS (
    UPDATE auth_sessions SET revoked_at = now(), revoked_reason = %(reason)s
    WHERE id = %(id)s AND revoked_at IS NULL RETURNING id
)""" + _REVOKED_TOKENS

REVOKE_USER_SESSION = """
WITH revoked AS (
    UPDATE auth_sessions SET revoked_at = now(), revoked_reason = %(reason)s
    WHERE id = %(id)s AND user_id = %(user_id)s AND revoked_at IS NULL RETURNING id
)""" + _REVOKED_TOKENS

REVOKE_ALL_SESSIONS = """
WITH revoked AS (
    UPDATE auth_sessions SET revoked_at = now(), revoked_reason = %(reason)s
    WHERE user_id = %(user_id)s AND revoked_at IS NULL RETURNING id
)""" + _REVOKED_TOKENS

SELECT_SESSIONS = """
SELECT id, device, user_agent, ip, created_at, last_used_at, expires_at
FROM auth_sessions
WHERE user_id = %(user_id)s AND revoked_at IS NULL AND expires_at > now()
ORDER BY last_used_at DESC
"""

INSERT_RESET = """
INSERT INTO password_resets (token_hash, user_id, expires_at)
VALUES (%(token_hash)s, %(user_id)s, now() + make_interval(secs => %(ttl)s))
"""

SELECT_RESET_FOR_UPDATE = """
SELECT r.user_id, r.used_at IS NOT NULL, r.expires_at <= now(), u.status
FROM password_resets r JOIN users u ON u.id = r.user_id
WHERE r.token_hash = %(token_hash)s
FOR UPDATE OF r
"""

# Using one link spends every outstanding link of that user.
SPEND_RESETS = "UPDATE password_resets SET used_at = now() WHERE user_id = %(user_id)s AND used_at IS NULL"

UPDATE_PASSWORD = "UPDATE users SET password_hash = %(password_hash)s, updated_at = now() WHERE id = %(id)s"

# Login throttling (restapi.auth.throttle). The account row is created on the first attempt and
# locked for the short decide-and-count transaction; the pair row is only touched under that lock.
THROTTLE_ENSURE = """
INSERT INTO login_throttle (user_id, failures, last_failure_at, next_at) VALUES (%(user_id)s, 0, %(now)s, %(now)s)
ON CONFLICT (user_id) DO NOTHING
"""
THROTTLE_LOCK = "SELECT failures, last_failure_at, next_at FROM login_throttle WHERE user_id = %(user_id)s FOR UPDATE"
PAIR_SELECT = "SELECT failures, window_start FROM login_failures WHERE user_id = %(user_id)s AND ip = %(ip)s"
# An address is known when it opened a session of this account lately (the owner's own devices).
KNOWN_ADDRESS = """
SELECT EXISTS (SELECT 1 FROM auth_sessions
               WHERE user_id = %(user_id)s AND ip = %(ip)s AND created_at > %(since)s)
"""
THROTTLE_SAVE = """
UPDATE login_throttle SET failures = %(failures)s, last_failure_at = %(last)s, next_at = %(next_at)s
WHERE user_id = %(user_id)s
"""
PAIR_SAVE = """
INSERT INTO login_failures (user_id, ip, failures, window_start)
VALUES (%(user_id)s, %(ip)s, %(failures)s, %(window_start)s)
ON CONFLICT (user_id, ip) DO UPDATE SET failures = EXCLUDED.failures, window_start = EXCLUDED.window_start
"""
THROTTLE_GIVE_BACK = """
UPDATE login_throttle SET failures = greatest(failures - 1, 0) WHERE user_id = %(user_id)s;
DELETE FROM login_failures WHERE user_id = %(user_id)s AND ip = %(ip)s
"""
THROTTLE_CLEAR = """
DELETE FROM login_throttle WHERE user_id = %(user_id)s;
DELETE FROM login_failures WHERE user_id = %(user_id)s
"""
