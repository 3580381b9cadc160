"""SQL of the user route group (parametrised constants only)."""

from __future__ import annotations

from restapi.auth.queries import USER_COLUMNS

SELECT_PROFILE = f"SELECT {USER_COLUMNS} FROM users u WHERE u.id = %(id)s"

# COALESCE keeps a column when the PATCH left it out; phone uses a flag because null is a value.
UPDATE_PROFILE = f"""
UPDATE users AS u SET
    display_name = COALESCE(%(display_name)s, u.display_name),
    email = CASE WHEN %(set_email)s THEN %(email)s ELSE u.email END,
    phone = CASE WHEN %(set_phone)s THEN %(phone)s ELSE u.phone END,
    updated_at = now()
WHERE u.id = %(id)s
RETURNING {USER_COLUMNS}
"""

PREF_COLUMNS = ("odds_format, default_stake_cents, timezone, notify_bet_accepted, notify_bet_graded, notify_balance, "
                "notify_settlement, notify_email, accept_price_changes")

SELECT_PREFERENCES = f"SELECT {PREF_COLUMNS} FROM user_preferences WHERE user_id = %(user_id)s"

UPSERT_PREFERENCES = f"""
INSERT INTO user_preferences (user_id, {PREF_COLUMNS})
VALUES (%(user_id)s, %(odds_format)s, %(default_stake_cents)s, %(timezone)s, %(notify_bet_accepted)s,
        %(notify_bet_graded)s, %(notify_balance)s, %(notify_settlement)s, %(notify_email)s,
        %(accept_price_changes)s)
ON CONFLICT (user_id) DO UPDATE SET
    odds_format = EXCLUDED.odds_format, default_stake_cents = EXCLUDED.default_stake_cents,
    timezone = EXCLUDED.timezone, notify_bet_accepted = EXCLUDED.notify_bet_accepted,
    notify_bet_graded = EXCLUDED.notify_bet_graded, notify_balance = EXCLUDED.notify_balance,
    notify_settlement = EXCLUDED.notify_settlement, notify_email = EXCLUDED.notify_email,
    accept_price_changes = EXCLUDED.accept_price_changes, updated_at = now()
RETURNING {PREF_COLUMNS}
"""
