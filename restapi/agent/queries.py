"""Named SQL of the agent hub's customers and cashier. Every customer query is scoped by agent_scope().

The list query exists once per (sort key, direction): the variants are built here, at import time,
from a fixed whitelist, so no request text ever reaches the SQL.
"""

from __future__ import annotations

CUSTOMER_COLUMNS = (
    "id", "login", "email", "display_name", "phone", "status", "agent_id", "balance_cents",
    "credit_limit_cents", "pending_risk_cents", "max_wager_cents", "min_wager_cents", "notes",
    "last_active_at", "created_at", "updated_at", "writable",
)
_CUSTOMER_SELECT = """
SELECT u.id, u.login, u.email, u.display_name, u.phone, u.status, u.agent_id, u.balance_cents,
       u.credit_limit_cents, u.pending_risk_cents, u.max_wager_cents, u.min_wager_cents, u.notes,
       u.last_active_at, u.created_at, u.updated_at,
       (s.depth = 0 OR coalesce((SELECT a.master_can_write FROM agent_settings a
                                  WHERE a.agent_id = %(viewer)s), true)) AS writable
  FROM users u JOIN agent_scope(%(viewer)s) s ON s.agent_id = u.agent_id
 WHERE u.id = %(player_id)s AND u.role = 'player'
"""
SCOPED_CUSTOMER = _CUSTOMER_SELECT
SCOPED_CUSTOMER_LOCK = _CUSTOMER_SELECT + " FOR UPDATE OF u"

# The agent a new customer goes under must be the viewer or one of its sub-agents.
AGENT_IN_SCOPE = """
SELECT depth = 0 OR coalesce((SELECT a.master_can_write FROM agent_settings a WHERE a.agent_id = %(viewer)s), true)
  FROM agent_scope(%(viewer)s) WHERE agent_id = %(agent_id)s
"""
SCOPED_AGENT = "SELECT depth FROM agent_scope(%(viewer)s) WHERE agent_id = %(agent_id)s"
LOGIN_OR_EMAIL_TAKEN = """
SELECT login = %(login)s, email = %(email)s FROM users WHERE login = %(login)s OR email = %(email)s LIMIT 1
"""
INSERT_CUSTOMER = """
INSERT INTO users (login, email, password_hash, display_name, phone, role, agent_id, credit_limit_cents,
                   max_wager_cents, min_wager_cents, notes)
VALUES (%(login)s, %(email)s, %(password_hash)s, %(display_name)s, %(phone)s, 'player', %(agent_id)s,
        %(credit_limit_cents)s, %(max_wager_cents)s, %(min_wager_cents)s, %(notes)s)
ON CONFLICT DO NOTHING
RETURNING id
"""
UPDATE_CUSTOMER = """
UPDATE users SET email = %(email)s, display_name = %(display_name)s, phone = %(phone)s, notes = %(notes)s,
       credit_limit_cents = %(credit_limit_cents)s, max_wager_cents = %(max_wager_cents)s,
       min_wager_cents = %(min_wager_cents)s, updated_at = now()
 WHERE id = %(id)s
"""
SET_STATUS = "UPDATE users SET status = %(status)s, updated_at = now() WHERE id = %(id)s"
SPORT_LIMITS = "SELECT sport_key, max_wager_cents FROM player_sport_limits WHERE user_id = %(id)s ORDER BY sport_key"
DELETE_SPORT_LIMITS = "DELETE FROM player_sport_limits WHERE user_id = %(id)s"
INSERT_SPORT_LIMIT = """
INSERT INTO player_sport_limits (user_id, sport_key, max_wager_cents) VALUES (%(id)s, %(sport)s, %(cents)s)
"""
INSERT_AUDIT = """
INSERT INTO audit_log (actor_id, action, target_type, target_id, before, after)
VALUES (%(actor_id)s, %(action)s, %(target_type)s, %(target_id)s, %(before)s, %(after)s)
"""
AUDIT_FOR = """
SELECT id, actor_id, action, before, after, created_at FROM audit_log
 WHERE target_type = 'user' AND target_id = %(id)s ORDER BY id DESC LIMIT %(limit)s
"""
# Open bets as the ledger sees them: bet references whose held risk is not yet released.
OPEN_BETS = """
SELECT ref_id, sum(risk_cents)::bigint AS risk, min(created_at), max(meta ->> 'sport'), max(meta ->> 'event')
  FROM ledger_entries
 WHERE account_id = %(id)s AND ref_type = 'bet' AND kind IN ('bet_risk', 'bet_win', 'bet_loss', 'bet_release')
 GROUP BY ref_id HAVING sum(risk_cents) > 0
 ORDER BY min(created_at) DESC LIMIT 50
"""
FIGURE_SINCE = """
SELECT coalesce(sum(amount_cents), 0)::bigint FROM ledger_entries
 WHERE account_id = %(id)s AND created_at >= %(since)s
   AND kind IN ('bet_win', 'bet_loss', 'adjustment', 'free_play')
"""
RECENT_ENTRIES = """
SELECT id, kind, amount_cents, risk_cents, balance_after, memo, actor_id, created_at FROM ledger_entries
 WHERE account_id = %(id)s ORDER BY seq DESC LIMIT 10
"""

LIST_COLUMNS = (
    "id", "login", "email", "display_name", "phone", "status", "agent_id", "balance_cents",
    "credit_limit_cents", "pending_risk_cents", "last_active_at", "created_at",
)
SORTS = {
    "login": ("u.login", "text"),
    "balance": ("u.balance_cents", "bigint"),
    "last_active": ("coalesce(u.last_active_at, '1970-01-01 00:00+00'::timestamptz)", "timestamptz"),
    "created": ("u.created_at", "timestamptz"),
}
_LIST_TEMPLATE = """
SELECT u.id, u.login, u.email, u.display_name, u.phone, u.status, u.agent_id, u.balance_cents,
       u.credit_limit_cents, u.pending_risk_cents, u.last_active_at, u.created_at, {expr} AS sort_value
  FROM users u JOIN agent_scope(%(viewer)s) s ON s.agent_id = u.agent_id
 WHERE u.role = 'player'
   AND (%(agent_id)s::bigint IS NULL OR u.agent_id = %(agent_id)s)
   AND (%(status)s::text IS NULL OR u.status = %(status)s)
   AND (%(balance_below)s::bigint IS NULL OR u.balance_cents < %(balance_below)s)
   AND (%(balance_above)s::bigint IS NULL OR u.balance_cents > %(balance_above)s)
   AND (%(active_since)s::timestamptz IS NULL OR u.last_active_at >= %(active_since)s)
   AND (%(has_open_bets)s::boolean IS NULL OR (u.pending_risk_cents > 0) = %(has_open_bets)s)
   AND (%(like)s::text IS NULL OR u.login ILIKE %(like)s OR u.display_name ILIKE %(like)s
        OR u.email ILIKE %(like)s OR u.phone ILIKE %(like)s)
   AND (%(after_value)s::text IS NULL OR ({expr}, u.id) {op} (%(after_value)s::{cast}, %(after_id)s))
 ORDER BY {expr} {direction}, u.id {direction}
 LIMIT %(limit)s
"""
LIST_CUSTOMERS = {
    (key, direction): _LIST_TEMPLATE.format(expr=expr, cast=cast, direction=direction,
                                            op=">" if direction == "ASC" else "<")
    for key, (expr, cast) in SORTS.items() for direction in ("ASC", "DESC")
}

# Cashier
CLAIM_IDEMPOTENCY = """
INSERT INTO cashier_requests (actor_id, key, request_hash, status, response)
VALUES (%(actor_id)s, %(key)s, %(request_hash)s, 0, '{}') ON CONFLICT DO NOTHING RETURNING 1
"""
STORED_IDEMPOTENCY = """
SELECT request_hash, status, response FROM cashier_requests WHERE actor_id = %(actor_id)s AND key = %(key)s
"""
FINISH_IDEMPOTENCY = """
UPDATE cashier_requests SET status = %(status)s, response = %(response)s
 WHERE actor_id = %(actor_id)s AND key = %(key)s
"""
BALANCES = """
SELECT u.id, u.login, u.display_name, u.status, u.balance_cents, u.credit_limit_cents, u.pending_risk_cents
  FROM users u JOIN agent_scope(%(viewer)s) s ON s.agent_id = u.agent_id
 WHERE u.role = 'player' AND (%(player_id)s::bigint IS NULL OR u.id = %(player_id)s)
   AND u.id > %(after_id)s
 ORDER BY u.id LIMIT %(limit)s
"""
TRANSACTIONS = """
SELECT e.id, e.account_id, u.login, e.kind, e.amount_cents, e.risk_cents, e.balance_after, e.ref_type,
       e.ref_id, e.actor_id, e.memo, e.override, e.created_at
  FROM ledger_entries e
  JOIN users u ON u.id = e.account_id AND u.role = 'player'
  JOIN agent_scope(%(viewer)s) s ON s.agent_id = u.agent_id
 WHERE (%(player_id)s::bigint IS NULL OR e.account_id = %(player_id)s)
   AND e.created_at >= %(start)s AND e.created_at < %(end)s
   AND (%(kind)s::text IS NULL OR e.kind = %(kind)s)
   AND (%(include_zero)s OR e.amount_cents <> 0)
   AND (%(before_id)s::bigint IS NULL OR e.id < %(before_id)s)
 ORDER BY e.id DESC LIMIT %(limit)s
"""
SUMMARY = """
SELECT date_trunc(%(bucket)s, (e.created_at AT TIME ZONE %(tz)s) - %(day_offset)s::interval)::date AS period,
       coalesce(sum(e.amount_cents) FILTER (WHERE e.kind = 'deposit'), 0)::bigint,
       coalesce(-sum(e.amount_cents) FILTER (WHERE e.kind = 'withdrawal'), 0)::bigint,
       coalesce(sum(e.amount_cents) FILTER (WHERE e.kind IN ('bet_win', 'bet_loss')), 0)::bigint,
       coalesce(sum(e.risk_cents) FILTER (WHERE e.kind = 'bet_risk'), 0)::bigint,
       coalesce(sum(e.amount_cents) FILTER (WHERE e.kind IN ('adjustment', 'free_play')), 0)::bigint,
       coalesce(sum(e.amount_cents) FILTER (WHERE e.kind = 'settlement'), 0)::bigint
  FROM ledger_entries e
  JOIN users u ON u.id = e.account_id AND u.role = 'player'
  JOIN agent_scope(%(viewer)s) s ON s.agent_id = u.agent_id
 WHERE e.created_at >= %(start)s AND e.created_at < %(end)s
   AND (%(player_id)s::bigint IS NULL OR e.account_id = %(player_id)s)
 GROUP BY 1 ORDER BY 1
"""
