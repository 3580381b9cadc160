"""SQL of the betting route group and the grader (parametrised constants only)."""

from __future__ import annotations

# What the catalog says now about each (event, market, outcome): one JSON array of rows (see the SQL
# function bet_offers in sql/0015_placement_functions.sql).
SELECT_OFFERS = "SELECT bet_offers(%(events)s::text[], %(markets)s::text[], %(outcomes)s::text[])"

# The first round trip of a placement (sent after BEGIN in one message by shared.db.Transaction.begin):
# the read half of sql/0015_placement_functions.sql (lock the account, read it, the key's stored answer
# and the offers), read as rows.PlacementOpen.
OPEN_PLACEMENT = """
SELECT * FROM bet_placement_open(%(user_id)s, %(key)s, %(events)s::text[], %(markets)s::text[], %(outcomes)s::text[])
"""

# The write half: bet, legs and the stored answer (sent with the ledger's APPEND and COMMIT in the
# second and last round trip; placed_at is the transaction's now(), the time OPEN_PLACEMENT returned).
INSERT_BET = """
SELECT bet_insert(%(bet_id)s, %(user_id)s, %(agent_id)s, %(bet_type)s, %(stake_cents)s, %(potential_payout_cents)s,
                  %(sports)s::text[], %(legs)s::jsonb, %(key)s, %(request_hash)s, %(response)s::jsonb)
"""

BET_COLUMNS = """b.id, b.user_id, b.bet_type, b.status, b.stake_cents, b.potential_payout_cents, b.payout_cents,
       b.placed_at, b.settled_at, b.regraded_at"""
LEG_COLUMNS = """l.bet_id, l.leg_no, l.event_id, l.sport, l.league, l.home_team, l.away_team, l.commence_time,
       l.market, l.outcome, l.point, l.book, l.price, l.price_seen, l.point_seen, l.live, l.result, l.graded_at"""

SELECT_OWN_BET = f"SELECT {BET_COLUMNS} FROM bets b WHERE b.id = %(bet_id)s AND b.user_id = %(user_id)s"
# Each leg with its book's display name (history shows "FanDuel", not "fanduel").
SELECT_LEGS = f"""
SELECT {LEG_COLUMNS}, coalesce(bk.title, l.book)
  FROM bet_legs l LEFT JOIN books bk ON bk.key = l.book
 WHERE l.bet_id = ANY(%(bet_ids)s) ORDER BY l.bet_id, l.leg_no
"""

# History, newest first by id (ids never repeat, so the cursor is exact); every filter optional.
SELECT_HISTORY = f"""
SELECT {BET_COLUMNS}
  FROM bets b
 WHERE b.user_id = %(user_id)s
   AND (%(status)s::text IS NULL OR b.status = %(status)s)
   AND (%(bet_type)s::text IS NULL OR b.bet_type = %(bet_type)s)
   AND (%(sport)s::text IS NULL OR %(sport)s = ANY (b.sports))
   AND (%(since)s::timestamptz IS NULL OR b.placed_at >= %(since)s)
   AND (%(until)s::timestamptz IS NULL OR b.placed_at < %(until)s)
   AND (%(before_id)s::bigint IS NULL OR b.id < %(before_id)s)
 ORDER BY b.id DESC
 LIMIT %(limit)s
"""

# --- grading -----------------------------------------------------------------------------------

# The pending legs of one event, locked: a second grader of the same event waits, then skips them.
LOCK_PENDING_LEGS = """
SELECT l.bet_id, l.leg_no, l.market, l.outcome, l.point, l.home_team, l.away_team
  FROM bet_legs l
 WHERE l.event_id = %(event_id)s AND l.result = 'pending'
 ORDER BY l.bet_id, l.leg_no
   FOR UPDATE
"""
GRADE_LEG = """
UPDATE bet_legs SET result = %(result)s, graded_at = now()
 WHERE bet_id = %(bet_id)s AND leg_no = %(leg_no)s
"""
# A regrade locks the bet's legs before the bet, like a grader (legs, then bets), so the two cannot deadlock.
LOCK_BET_LEGS = "SELECT 1 FROM bet_legs WHERE bet_id = %(bet_id)s ORDER BY leg_no FOR UPDATE"
# Bets are always locked in id order (then accounts in id order by the ledger) so graders never deadlock.
LOCK_BETS = f"""
SELECT {BET_COLUMNS}, b.agent_id, b.sports
  FROM bets b WHERE b.id = ANY(%(bet_ids)s)
 ORDER BY b.id
   FOR UPDATE
"""
SETTLE_BET = """
UPDATE bets SET status = %(status)s, payout_cents = %(payout_cents)s, settled_at = now()
 WHERE id = %(bet_id)s
"""
UNSETTLE_BET = """
UPDATE bets SET status = 'open', payout_cents = NULL, settled_at = NULL, regraded_at = now()
 WHERE id = %(bet_id)s
"""
MARK_REGRADED = "UPDATE bets SET regraded_at = now() WHERE id = %(bet_id)s"
SET_LEG_RESULT = """
UPDATE bet_legs SET result = %(result)s, graded_at = CASE WHEN %(result)s = 'pending' THEN NULL ELSE now() END
 WHERE bet_id = %(bet_id)s AND leg_no = %(leg_no)s
"""

# Events already final or cancelled that still have pending legs (a result that arrived while a bet
# on the event was being placed, or before the grader existed): graded from the catalog's score.
SELECT_STALE_EVENTS = """
SELECT e.id, e.status, e.home_score, e.away_score
  FROM events e
 WHERE e.status IN ('final', 'cancelled')
   AND EXISTS (SELECT 1 FROM bet_legs l WHERE l.event_id = e.id AND l.result = 'pending')
 LIMIT %(limit)s
"""

# Games that started more than ``hours`` ago and still have pending legs but no result in the catalog
# (postponed or abandoned: The Odds API announces no cancellation): the house rule voids them.
SELECT_UNPLAYED_EVENTS = """
SELECT DISTINCT l.event_id
  FROM bet_legs l
 WHERE l.result = 'pending'
   AND l.commence_time < %(now)s - %(hours)s * interval '1 hour'
   AND NOT EXISTS (SELECT 1 FROM events e WHERE e.id = l.event_id AND e.status IN ('final', 'cancelled'))
 LIMIT %(limit)s
"""

# The void rule moves the catalog too, so the board, the bet and the history agree: games that
# started more than ``hours`` ago without a result (or whose legs the rule voids) become cancelled
# and their markets close.
CANCEL_UNPLAYED_EVENTS = """
WITH gone AS (
    UPDATE events SET status = 'cancelled', completed_at = %(now)s, updated_at = now()
     WHERE status IN ('scheduled', 'upcoming', 'live', 'awaiting')
       AND (commence_time < %(now)s - %(hours)s * interval '1 hour' OR id = ANY(%(events)s::text[]))
    RETURNING id
), closed AS (
    UPDATE markets SET is_open = false, updated_at = now()
     WHERE event_id IN (SELECT id FROM gone) AND is_open
)
SELECT id FROM gone
"""

# May ``viewer`` (an agent or admin) regrade this bet? Admins see every agent; agents their tree.
SELECT_BET_IN_SCOPE = """
SELECT b.id FROM bets b JOIN users u ON u.id = b.user_id
 WHERE b.id = %(bet_id)s
   AND u.agent_id IN (SELECT s.agent_id FROM agent_scope(%(viewer)s) s)
"""
# Who may correct results (issue 13): an admin, or a master agent (an agent with no agent above it) for
# its tree. A sub-agent may not: it would settle its own book's bets with a score of its choosing.
SELECT_MAY_REGRADE = """
SELECT role = 'admin' OR (role = 'agent' AND agent_id IS NULL) FROM users WHERE id = %(actor_id)s
"""
# A result exists only for a game that has started: final or cancelled in the catalog, or past its start
# time (the catalog's, which follows a rescheduled game; the legs' when the catalog no longer has it).
# NULL when the event is known nowhere.
SELECT_EVENT_STARTED = """
SELECT coalesce(
    (SELECT e.status IN ('final', 'cancelled') OR e.commence_time <= %(now)s FROM events e WHERE e.id = %(event_id)s),
    (SELECT min(l.commence_time) <= %(now)s FROM bet_legs l WHERE l.event_id = %(event_id)s))
"""
# The legs of a bet, among ``leg_nos``, whose game has not started.
SELECT_LEGS_NOT_STARTED = """
SELECT l.leg_no, l.event_id FROM bet_legs l LEFT JOIN events e ON e.id = l.event_id
 WHERE l.bet_id = %(bet_id)s AND l.leg_no = ANY(%(leg_nos)s)
   AND NOT (coalesce(e.status IN ('final', 'cancelled'), false)
            OR coalesce(e.commence_time, l.commence_time) <= %(now)s)
 ORDER BY l.leg_no
"""
INSERT_AUDIT = """
INSERT INTO audit_log (actor_id, action, target_type, target_id, before, after)
VALUES (%(actor_id)s, %(action)s, 'bet', %(bet_id)s, %(before)s::jsonb, %(after)s::jsonb)
"""
SELECT_ACCOUNT = "SELECT balance_cents, credit_limit_cents, pending_risk_cents FROM users WHERE id = %(user_id)s"

# The legs on one event of bets whose player ``viewer`` (an agent or admin) may see, by bet.
SELECT_EVENT_LEGS_IN_SCOPE = """
SELECT l.bet_id, l.leg_no, l.market, l.outcome, l.point, l.home_team, l.away_team
  FROM bet_legs l
  JOIN bets b ON b.id = l.bet_id
  JOIN users u ON u.id = b.user_id
 WHERE l.event_id = %(event_id)s
   AND u.agent_id IN (SELECT s.agent_id FROM agent_scope(%(viewer)s) s)
 ORDER BY l.bet_id, l.leg_no
"""
INSERT_EVENT_AUDIT = """
INSERT INTO audit_log (actor_id, action, target_type, target_id, before, after)
VALUES (%(actor_id)s, 'event.score_correction', 'event', NULL, NULL, %(after)s::jsonb)
"""
