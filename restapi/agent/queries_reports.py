"""Named SQL of reports and dashboards, all computed from the ledger (see restapi.ledger for kinds).

Handle is the stake of ``bet_risk`` entries; player win/loss is the amount of ``bet_win`` and
``bet_loss`` entries; book win = -player win/loss; sport and bet type come from the entry's meta.
"""

from __future__ import annotations

_SCOPED_ENTRIES = """
  FROM ledger_entries e
  JOIN users u ON u.id = e.account_id AND u.role = 'player'
  JOIN agent_scope(%(viewer)s) s ON s.agent_id = u.agent_id
 WHERE e.created_at >= %(start)s AND e.created_at < %(end)s
   AND e.kind IN ('bet_risk', 'bet_win', 'bet_loss')
"""
_PERF_COLUMNS = """
       count(*) FILTER (WHERE e.kind = 'bet_risk')::bigint,
       coalesce(sum(e.risk_cents) FILTER (WHERE e.kind = 'bet_risk'), 0)::bigint,
       coalesce(sum(e.amount_cents) FILTER (WHERE e.kind IN ('bet_win', 'bet_loss')), 0)::bigint
"""
PERF_BY_DAY = ("SELECT (e.created_at AT TIME ZONE 'UTC')::date::text," + _PERF_COLUMNS + _SCOPED_ENTRIES
               + " GROUP BY 1 ORDER BY 1")
PERF_BY_SPORT = ("SELECT coalesce(e.meta ->> 'sport', 'unknown')," + _PERF_COLUMNS + _SCOPED_ENTRIES
                 + " GROUP BY 1 ORDER BY 1")
PERF_BY_BET_TYPE = ("SELECT coalesce(e.meta ->> 'bet_type', 'unknown')," + _PERF_COLUMNS + _SCOPED_ENTRIES
                    + " GROUP BY 1 ORDER BY 1")

CUSTOMER_ACTIVITY_COLUMNS = ("player_id", "login", "display_name", "agent_id", "status", "bets", "stake_cents",
                             "player_winloss_cents", "deposits_cents", "withdrawals_cents", "last_bet_at",
                             "last_active_at")
# One page of players (keyset on id) with their activity in the range: bets from the ledger_daily
# rollup (report ranges are whole UTC days, so it is exact), cash from the ledger's cash index.
CUSTOMER_ACTIVITY = """
SELECT u.id, u.login, u.display_name, u.agent_id, u.status,
       coalesce(r.bets, 0), coalesce(r.stake, 0), coalesce(r.winloss, 0),
       coalesce(c.deposits, 0), coalesce(c.withdrawals, 0), u.last_bet_at, u.last_active_at
  FROM users u
  JOIN agent_scope(%(viewer)s) s ON s.agent_id = u.agent_id
  LEFT JOIN LATERAL (
       SELECT sum(d.bets)::bigint AS bets, sum(d.handle_cents)::bigint AS stake,
              sum(d.winloss_cents)::bigint AS winloss
         FROM ledger_daily d
        WHERE d.account_id = u.id AND d.day >= %(day_from)s AND d.day < %(day_to)s) r ON true
  LEFT JOIN LATERAL (
       SELECT sum(e.amount_cents) FILTER (WHERE e.kind = 'deposit')::bigint AS deposits,
              (-sum(e.amount_cents) FILTER (WHERE e.kind = 'withdrawal'))::bigint AS withdrawals
         FROM ledger_entries e
        WHERE e.account_id = u.id AND e.kind IN ('deposit', 'withdrawal')
          AND e.created_at >= %(start)s AND e.created_at < %(end)s) c ON true
 WHERE u.role = 'player' AND u.id > %(after_id)s
 ORDER BY u.id
 LIMIT %(limit)s
"""

# Agent dashboard
# Revenue this week and last in one pass over the ledger_daily rollup (whole
# UTC days), plus one pass over the ledger for the partial-day edges of both weeks
# (restapi.agent.reports.split_days computes the pieces).
DASH_ROLLUP = """
SELECT coalesce(sum(d.winloss_cents) FILTER (WHERE d.day >= %(this_from)s AND d.day < %(this_to)s), 0)::bigint,
       coalesce(sum(d.winloss_cents) FILTER (WHERE d.day >= %(last_from)s AND d.day < %(last_to)s), 0)::bigint
  FROM ledger_daily d
  JOIN users u ON u.id = d.account_id AND u.role = 'player'
  JOIN agent_scope(%(viewer)s) s ON s.agent_id = u.agent_id
 WHERE d.day >= %(last_from)s
"""
DASH_EDGES = """
SELECT coalesce(sum(e.amount_cents) FILTER (WHERE (e.created_at >= %(t1a)s AND e.created_at < %(t1b)s)
                                             OR (e.created_at >= %(t2a)s AND e.created_at < %(t2b)s)), 0)::bigint,
       coalesce(sum(e.amount_cents) FILTER (WHERE (e.created_at >= %(l1a)s AND e.created_at < %(l1b)s)
                                             OR (e.created_at >= %(l2a)s AND e.created_at < %(l2b)s)), 0)::bigint
  FROM ledger_entries e
  JOIN users u ON u.id = e.account_id AND u.role = 'player'
  JOIN agent_scope(%(viewer)s) s ON s.agent_id = u.agent_id
 WHERE e.kind IN ('bet_win', 'bet_loss')
   AND ((e.created_at >= %(t1a)s AND e.created_at < %(t1b)s) OR (e.created_at >= %(t2a)s AND e.created_at < %(t2b)s)
        OR (e.created_at >= %(l1a)s AND e.created_at < %(l1b)s) OR (e.created_at >= %(l2a)s AND e.created_at < %(l2b)s))
"""
BOOK_TOTALS = """
SELECT count(*)::int, count(*) FILTER (WHERE u.status = 'active')::int,
       coalesce(sum(u.balance_cents), 0)::bigint, coalesce(sum(u.pending_risk_cents), 0)::bigint,
       count(*) FILTER (WHERE u.last_bet_at >= %(active_since)s)::int
  FROM users u JOIN agent_scope(%(viewer)s) s ON s.agent_id = u.agent_id
 WHERE u.role = 'player'
"""
SETTLEMENT_TOTALS = """
SELECT count(*) FILTER (WHERE c.due_at >= %(now)s)::int,
       coalesce(sum(abs(st.figure_cents) - st.paid_cents) FILTER (WHERE c.due_at >= %(now)s), 0)::bigint,
       count(*) FILTER (WHERE c.due_at < %(now)s)::int,
       coalesce(sum(abs(st.figure_cents) - st.paid_cents) FILTER (WHERE c.due_at < %(now)s), 0)::bigint
  FROM settlements st
  JOIN settlement_cycles c ON c.id = st.cycle_id
  JOIN agent_scope(%(viewer)s) s ON s.agent_id = c.agent_id
 WHERE st.status <> 'settled'
"""
# Open risk by event: held minus released risk of recent bet entries, per event in their meta, over
# the players that hold risk at all (most hold none, which keeps this small).
EXPOSURE_BY_EVENT = """
SELECT e.meta ->> 'event', sum(e.risk_cents)::bigint, count(*) FILTER (WHERE e.kind = 'bet_risk')::int
  FROM ledger_entries e
  JOIN users u ON u.id = e.account_id AND u.role = 'player' AND u.pending_risk_cents > 0
  JOIN agent_scope(%(viewer)s) s ON s.agent_id = u.agent_id
 WHERE e.created_at >= %(since)s AND e.kind IN ('bet_risk', 'bet_win', 'bet_loss', 'bet_release')
   AND e.meta ? 'event'
 GROUP BY 1 HAVING sum(e.risk_cents) > 0
 ORDER BY 2 DESC LIMIT 10
"""

# Player dashboard
PLAYER_STATE = """
SELECT balance_cents, credit_limit_cents, pending_risk_cents, agent_id, status FROM users
 WHERE id = %(id)s AND role = 'player'
"""
