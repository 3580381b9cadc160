"""Named SQL of reports and dashboards, all computed from the ledger (see restapi.ledger for kinds).

Handle is the stake of ``bet_risk`` entries; player win/loss is the amount of ``bet_win`` and
``bet_loss`` entries; a player's net (the weekly figure a settlement is made of) adds free play and
adjustments (``restapi.ledger.FIGURE_KINDS``); book win = -player win/loss. Every range is a pair of
instants [start, end) computed in Python from the agent's business days (restapi.agent.cycles), and
``%(owner)s`` (an agent id or NULL) narrows a viewer's tree to one agent's own book.
"""

from __future__ import annotations

_OWNER = "(%(owner)s::bigint IS NULL OR u.agent_id = %(owner)s)"
_SCOPED_ENTRIES = f"""
  FROM ledger_entries e
  JOIN users u ON u.id = e.account_id AND u.role = 'player'
  JOIN agent_scope(%(viewer)s) s ON s.agent_id = u.agent_id
 WHERE e.created_at >= %(start)s AND e.created_at < %(end)s AND {_OWNER}
   AND e.kind IN ('bet_risk', 'bet_win', 'bet_loss')
"""
_PERF_COLUMNS = """
       count(*) FILTER (WHERE e.kind = 'bet_risk')::bigint,
       coalesce(sum(e.risk_cents) FILTER (WHERE e.kind = 'bet_risk'), 0)::bigint,
       coalesce(sum(e.amount_cents) FILTER (WHERE e.kind IN ('bet_win', 'bet_loss')), 0)::bigint
"""
# Days are the agent's business days: width_bucket over their start instants (passed from Python,
# so DST and close times are computed in one place) gives the day number 1..n of each entry.
PERF_BY_DAY = ("SELECT width_bucket(e.created_at, %(bounds)s::timestamptz[])," + _PERF_COLUMNS
               + _SCOPED_ENTRIES + " GROUP BY 1 ORDER BY 1")
PERF_BY_SPORT = ("SELECT coalesce(e.meta ->> 'sport', 'unknown')," + _PERF_COLUMNS + _SCOPED_ENTRIES
                 + " GROUP BY 1 ORDER BY 1")
PERF_BY_BET_TYPE = ("SELECT coalesce(e.meta ->> 'bet_type', 'unknown')," + _PERF_COLUMNS + _SCOPED_ENTRIES
                    + " GROUP BY 1 ORDER BY 1")

CUSTOMER_ACTIVITY_COLUMNS = ("player_id", "login", "display_name", "agent_id", "agent_login", "status", "bets",
                             "stake_cents", "player_winloss_cents", "net_cents", "deposits_cents",
                             "withdrawals_cents", "last_bet_at", "last_active_at")
# One page of players (keyset on id) with their activity in [start, end), read from the ledger
# (index on account and time): business days need not fall on the UTC days of the ledger_daily rollup.
CUSTOMER_ACTIVITY = f"""
SELECT u.id, u.login, u.display_name, u.agent_id, a.login, u.status,
       coalesce(r.bets, 0), coalesce(r.stake, 0), coalesce(r.winloss, 0), coalesce(r.net, 0),
       coalesce(r.deposits, 0), coalesce(r.withdrawals, 0), u.last_bet_at, u.last_active_at
  FROM users u
  JOIN agent_scope(%(viewer)s) s ON s.agent_id = u.agent_id
  JOIN users a ON a.id = u.agent_id
  LEFT JOIN LATERAL (
       SELECT count(*) FILTER (WHERE e.kind = 'bet_risk')::bigint AS bets,
              sum(e.risk_cents) FILTER (WHERE e.kind = 'bet_risk')::bigint AS stake,
              sum(e.amount_cents) FILTER (WHERE e.kind IN ('bet_win', 'bet_loss'))::bigint AS winloss,
              sum(e.amount_cents) FILTER (WHERE e.kind IN ('bet_win', 'bet_loss', 'adjustment',
                                                           'free_play'))::bigint AS net,
              sum(e.amount_cents) FILTER (WHERE e.kind = 'deposit')::bigint AS deposits,
              (-sum(e.amount_cents) FILTER (WHERE e.kind = 'withdrawal'))::bigint AS withdrawals
         FROM ledger_entries e
        WHERE e.account_id = u.id AND e.created_at >= %(start)s AND e.created_at < %(end)s) r ON true
 WHERE u.role = 'player' AND u.id > %(after_id)s AND {_OWNER}
 ORDER BY u.id
 LIMIT %(limit)s
"""

# Agent dashboard
# The book's revenue is minus the players' net (FIGURE_KINDS) over each week: bet results from the
# ledger_daily rollup for whole UTC days plus the ledger for the partial-day edges of both weeks
# (restapi.agent.reports.split_days computes the pieces), and free play and adjustments (rare) from
# the ledger's time index.
DASH_ROLLUP = f"""
SELECT coalesce(sum(d.winloss_cents) FILTER (WHERE d.day >= %(this_from)s AND d.day < %(this_to)s), 0)::bigint,
       coalesce(sum(d.winloss_cents) FILTER (WHERE d.day >= %(last_from)s AND d.day < %(last_to)s), 0)::bigint
  FROM ledger_daily d
  JOIN users u ON u.id = d.account_id AND u.role = 'player'
  JOIN agent_scope(%(viewer)s) s ON s.agent_id = u.agent_id
 WHERE d.day >= %(last_from)s AND {_OWNER}
"""
DASH_EDGES = f"""
SELECT coalesce(sum(e.amount_cents) FILTER (WHERE (e.created_at >= %(t1a)s AND e.created_at < %(t1b)s)
                                             OR (e.created_at >= %(t2a)s AND e.created_at < %(t2b)s)), 0)::bigint,
       coalesce(sum(e.amount_cents) FILTER (WHERE (e.created_at >= %(l1a)s AND e.created_at < %(l1b)s)
                                             OR (e.created_at >= %(l2a)s AND e.created_at < %(l2b)s)), 0)::bigint
  FROM ledger_entries e
  JOIN users u ON u.id = e.account_id AND u.role = 'player'
  JOIN agent_scope(%(viewer)s) s ON s.agent_id = u.agent_id
 WHERE e.kind IN ('bet_win', 'bet_loss') AND {_OWNER}
   AND ((e.created_at >= %(t1a)s AND e.created_at < %(t1b)s) OR (e.created_at >= %(t2a)s AND e.created_at < %(t2b)s)
        OR (e.created_at >= %(l1a)s AND e.created_at < %(l1b)s) OR (e.created_at >= %(l2a)s AND e.created_at < %(l2b)s))
"""
DASH_EXTRAS = f"""
SELECT coalesce(sum(e.amount_cents) FILTER (WHERE e.created_at >= %(this_start)s), 0)::bigint,
       coalesce(sum(e.amount_cents) FILTER (WHERE e.created_at < %(this_start)s), 0)::bigint
  FROM ledger_entries e
  JOIN users u ON u.id = e.account_id AND u.role = 'player'
  JOIN agent_scope(%(viewer)s) s ON s.agent_id = u.agent_id
 WHERE e.kind IN ('adjustment', 'free_play') AND e.created_at >= %(last_start)s AND e.created_at < %(now)s
   AND {_OWNER}
"""
BOOK_TOTALS = f"""
SELECT count(*)::int, count(*) FILTER (WHERE u.status = 'active')::int,
       coalesce(sum(u.balance_cents), 0)::bigint, coalesce(sum(u.pending_risk_cents), 0)::bigint,
       count(*) FILTER (WHERE u.last_bet_at >= %(active_since)s)::int
  FROM users u JOIN agent_scope(%(viewer)s) s ON s.agent_id = u.agent_id
 WHERE u.role = 'player' AND {_OWNER}
"""
# Open settlements by display state at ``now`` (see restapi.agent.cycles.settlement_state): what is
# left to pay of each (count and amount).
SETTLEMENT_TOTALS = f"""
SELECT count(*) FILTER (WHERE st.status = 'pending' AND c.due_at >= %(now)s)::int,
       coalesce(sum(abs(st.figure_cents) - st.paid_cents)
                FILTER (WHERE st.status = 'pending' AND c.due_at >= %(now)s), 0)::bigint,
       count(*) FILTER (WHERE st.status = 'partial' AND c.due_at >= %(now)s)::int,
       coalesce(sum(abs(st.figure_cents) - st.paid_cents)
                FILTER (WHERE st.status = 'partial' AND c.due_at >= %(now)s), 0)::bigint,
       count(*) FILTER (WHERE c.due_at < %(now)s)::int,
       coalesce(sum(abs(st.figure_cents) - st.paid_cents) FILTER (WHERE c.due_at < %(now)s), 0)::bigint
  FROM settlements st
  JOIN settlement_cycles c ON c.id = st.cycle_id
  JOIN users u ON u.id = st.player_id
  JOIN agent_scope(%(viewer)s) s ON s.agent_id = c.agent_id
 WHERE st.status <> 'settled' AND {_OWNER}
"""
# Open risk by event: every bet still holding risk (its entries' risk sums above zero), named by the
# event in its bet_risk entry's meta, over the players that hold risk at all (most hold none). The
# rows add up to the players' pending risk.
EXPOSURE_BY_EVENT = f"""
SELECT coalesce(b.event, ''), sum(b.risk)::bigint, count(*)::int
  FROM (SELECT sum(e.risk_cents) AS risk, max(e.meta ->> 'event') FILTER (WHERE e.kind = 'bet_risk') AS event
          FROM ledger_entries e
          JOIN users u ON u.id = e.account_id AND u.role = 'player' AND u.pending_risk_cents <> 0
          JOIN agent_scope(%(viewer)s) s ON s.agent_id = u.agent_id
         WHERE e.risk_cents <> 0 AND {_OWNER}
         GROUP BY e.account_id, e.ref_type, e.ref_id HAVING sum(e.risk_cents) <> 0) b
 GROUP BY 1 ORDER BY 2 DESC, 1
"""

# Player dashboard
PLAYER_STATE = """
SELECT balance_cents, credit_limit_cents, pending_risk_cents, agent_id, status FROM users
 WHERE id = %(id)s AND role = 'player'
"""
