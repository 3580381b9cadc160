"""Named SQL of weekly settlements: closing a week, payments, listings and compliance."""

from __future__ import annotations

# Two job processes (or a retry) closing the same week: the advisory lock serialises them per agent
# and the unique (agent_id, week_end) key makes the second a no-op.
LOCK_AGENT_CYCLE = "SELECT pg_advisory_xact_lock(1734, %(agent_id)s::int)"
INSERT_CYCLE = """
INSERT INTO settlement_cycles (agent_id, week_start, week_end, due_at, closed_at)
VALUES (%(agent_id)s, %(week_start)s, %(week_end)s, %(due_at)s, %(closed_at)s)
ON CONFLICT (agent_id, week_end) DO NOTHING RETURNING id
"""
# The weekly figure: bet results plus adjustments and free play (restapi.ledger.FIGURE_KINDS).
INSERT_SETTLEMENTS = """
INSERT INTO settlements (cycle_id, player_id, figure_cents)
SELECT %(cycle_id)s, e.account_id, sum(e.amount_cents)
  FROM ledger_entries e JOIN users u ON u.id = e.account_id
 WHERE u.agent_id = %(agent_id)s AND u.role = 'player'
   AND e.created_at >= %(week_start)s AND e.created_at < %(week_end)s
   AND e.kind IN ('bet_win', 'bet_loss', 'adjustment', 'free_play')
 GROUP BY e.account_id HAVING sum(e.amount_cents) <> 0
ON CONFLICT (cycle_id, player_id) DO NOTHING
"""
AGENTS = "SELECT id FROM users WHERE role = 'agent' ORDER BY id"
LAST_CYCLE_END = "SELECT max(week_end) FROM settlement_cycles WHERE agent_id = %(agent_id)s"

SETTLEMENT_FOR_PAYMENT = """
SELECT s.id, s.player_id, s.figure_cents, s.paid_cents, s.status,
       (sc.depth = 0 OR coalesce((SELECT a.master_can_write FROM agent_settings a
                                   WHERE a.agent_id = %(viewer)s), true))
  FROM settlements s
  JOIN users u ON u.id = s.player_id
  JOIN agent_scope(%(viewer)s) sc ON sc.agent_id = u.agent_id
 WHERE s.id = %(id)s
   FOR UPDATE OF s
"""
INSERT_PAYMENT = """
INSERT INTO settlement_payments (settlement_id, amount_cents, method, reference, actor_id, ledger_entry_id,
                                 created_at)
VALUES (%(id)s, %(amount_cents)s, %(method)s, %(reference)s, %(actor_id)s, %(entry_id)s, %(at)s)
RETURNING id, created_at
"""
UPDATE_SETTLEMENT = """
UPDATE settlements SET paid_cents = %(paid_cents)s, status = %(status)s,
       settled_at = CASE WHEN %(status)s = 'settled' THEN %(at)s::timestamptz END
 WHERE id = %(id)s
"""

SETTLEMENT_COLUMNS = ("id", "cycle_id", "agent_id", "agent_login", "week_start", "week_end", "due_at", "player_id",
                      "login", "display_name", "figure_cents", "paid_cents", "status", "settled_at")
# Newest cycle first, each cycle's settlements by id; keyset pages on (week_end, cycle, settlement).
# Without a week: the last five weeks plus anything still open.
LIST_SETTLEMENTS = """
SELECT s.id, c.id, c.agent_id, a.login, c.week_start, c.week_end, c.due_at, s.player_id, u.login, u.display_name,
       s.figure_cents, s.paid_cents, s.status, s.settled_at
  FROM settlements s
  JOIN settlement_cycles c ON c.id = s.cycle_id
  JOIN agent_scope(%(viewer)s) sc ON sc.agent_id = c.agent_id
  JOIN users u ON u.id = s.player_id
  JOIN users a ON a.id = c.agent_id
 WHERE (%(week)s::timestamptz IS NULL OR (c.week_start <= %(week)s AND %(week)s < c.week_end))
   AND (%(week)s::timestamptz IS NOT NULL OR c.week_end > %(now)s - interval '35 days' OR s.status <> 'settled')
   AND (%(owner)s::bigint IS NULL OR c.agent_id = %(owner)s)
   AND (%(status)s::text IS NULL
        OR (%(status)s = 'overdue' AND s.status <> 'settled' AND c.due_at < %(now)s)
        OR (%(status)s = 'open' AND s.status <> 'settled')
        OR (%(status)s IN ('pending', 'partial') AND s.status = %(status)s AND c.due_at >= %(now)s)
        OR (%(status)s = 'settled' AND s.status = 'settled'))
   AND (%(after_end)s::timestamptz IS NULL OR c.week_end < %(after_end)s
        OR (c.week_end = %(after_end)s
            AND (c.id < %(after_cycle)s OR (c.id = %(after_cycle)s AND s.id > %(after_id)s))))
 ORDER BY c.week_end DESC, c.id DESC, s.id
 LIMIT %(limit)s
"""
PAYMENTS_OF = """
SELECT p.settlement_id, p.id, p.amount_cents, p.method, p.reference, p.actor_id, p.created_at
  FROM settlement_payments p WHERE p.settlement_id = ANY(%(ids)s) ORDER BY p.id
"""
COMPLIANCE = """
SELECT c.agent_id, count(*)::int,
       count(*) FILTER (WHERE s.status = 'settled' AND s.settled_at <= c.due_at)::int,
       count(*) FILTER (WHERE s.status = 'settled' AND s.settled_at > c.due_at)::int,
       count(*) FILTER (WHERE s.status <> 'settled' AND c.due_at < %(now)s)::int,
       count(*) FILTER (WHERE s.status <> 'settled' AND c.due_at >= %(now)s)::int,
       coalesce(sum(abs(s.figure_cents) - s.paid_cents) FILTER (WHERE s.status <> 'settled'), 0)::bigint
  FROM settlements s
  JOIN settlement_cycles c ON c.id = s.cycle_id
  JOIN agent_scope(%(viewer)s) sc ON sc.agent_id = c.agent_id
 GROUP BY c.agent_id ORDER BY c.agent_id
"""
OVERDUE = """
SELECT s.id, c.agent_id, s.player_id, u.login, s.figure_cents, s.paid_cents, c.due_at,
       (extract(epoch FROM %(now)s - c.due_at) / 86400)::int + 1 AS days_overdue
  FROM settlements s
  JOIN settlement_cycles c ON c.id = s.cycle_id
  JOIN agent_scope(%(viewer)s) sc ON sc.agent_id = c.agent_id
  JOIN users u ON u.id = s.player_id
 WHERE s.status <> 'settled' AND c.due_at < %(now)s
 ORDER BY c.due_at, s.id LIMIT 500
"""

# Reminders
CLAIM_REMINDER = """
INSERT INTO settlement_reminders (agent_id, week_end, pending) VALUES (%(agent_id)s, %(week_end)s, %(pending)s)
ON CONFLICT DO NOTHING RETURNING sent_at
"""
PENDING_FOR_AGENT = """
SELECT count(*)::int, coalesce(sum(abs(s.figure_cents) - s.paid_cents), 0)::bigint,
       count(*) FILTER (WHERE c.due_at < %(now)s)::int
  FROM settlements s JOIN settlement_cycles c ON c.id = s.cycle_id
 WHERE c.agent_id = %(agent_id)s AND s.status <> 'settled'
"""
AGENT_CONTACT = "SELECT email, display_name FROM users WHERE id = %(agent_id)s"
WEEK_FIGURES_FOR_AGENT = """
SELECT count(*)::int,
       coalesce(-sum(f) FILTER (WHERE f < 0), 0)::bigint,
       coalesce(sum(f) FILTER (WHERE f > 0), 0)::bigint
  FROM (SELECT sum(e.amount_cents) AS f
          FROM ledger_entries e JOIN users u ON u.id = e.account_id
         WHERE u.agent_id = %(agent_id)s AND u.role = 'player' AND e.created_at >= %(since)s
           AND e.kind IN ('bet_win', 'bet_loss', 'adjustment', 'free_play')
         GROUP BY e.account_id HAVING sum(e.amount_cents) <> 0) figures
"""

UPSERT_SCHEDULE = """
INSERT INTO agent_settings (agent_id, timezone, close_dow, close_time, reminder_hours, due_days, master_can_write)
VALUES (%(agent_id)s, %(timezone)s, %(close_dow)s, %(close_time)s, %(reminder_hours)s, %(due_days)s,
        %(master_can_write)s)
ON CONFLICT (agent_id) DO UPDATE SET timezone = EXCLUDED.timezone, close_dow = EXCLUDED.close_dow,
    close_time = EXCLUDED.close_time, reminder_hours = EXCLUDED.reminder_hours, due_days = EXCLUDED.due_days,
    master_can_write = EXCLUDED.master_can_write
"""
