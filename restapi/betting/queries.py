"""SQL of the betting route group and the grader (parametrised constants only)."""

from __future__ import annotations

# Every (event, market, outcome) asked for, with the event header, the market's flags and each
# book's current price, as one JSON array of rows (so a placement can read it in the same statement
# as the account): an unknown event yields no row, an unknown market NULL flags, an outcome off the
# board NULL prices.
_OFFERS = """
SELECT COALESCE(jsonb_agg(jsonb_build_array(
           p.event_id, p.market, p.outcome, e.sport, e.league, e.home_team, e.away_team, e.commence_time, e.status,
           m.is_open, m.live_bettable, o.book, o.price, o.point, o.last_update)), '[]'::jsonb)
  FROM unnest(%(events)s::text[], %(markets)s::text[], %(outcomes)s::text[]) AS p (event_id, market, outcome)
  JOIN events e ON e.id = p.event_id
  LEFT JOIN markets m ON m.event_id = p.event_id AND m.market = p.market
  LEFT JOIN odds o ON o.event_id = p.event_id AND o.market = p.market AND o.outcome = p.outcome
"""
SELECT_OFFERS = _OFFERS

# The first round trip of a placement, three statements in one message: BEGIN; lock the account row
# until commit (placements and ledger postings of one account queue here, so a retry waits for the
# attempt in flight); then, in a statement of its own so that in READ COMMITTED it sees what
# committed while we waited: the account (status, limits, credit, stable under the lock),
# preferences, per-sport caps, the stored answer to this Idempotency-Key if any, the new bet's id
# and time (so the answer is built before the insert), and the offers of the selections.
BEGIN_PLACEMENT = f"""
BEGIN;
SELECT 1 FROM users WHERE id = %(user_id)s FOR UPDATE;
SELECT u.status, u.role, u.agent_id, u.min_wager_cents, u.max_wager_cents, u.credit_limit_cents, u.balance_cents,
       u.pending_risk_cents,
       COALESCE((SELECT p.accept_price_changes FROM user_preferences p WHERE p.user_id = u.id), 'none'),
       COALESCE((SELECT jsonb_object_agg(s.sport_key, s.max_wager_cents)
                   FROM player_sport_limits s WHERE s.user_id = u.id), '{{}}'::jsonb),
       nextval('bets_id_seq'), now(),
       r.request_hash, r.response,
       ({_OFFERS})
  FROM users u
  LEFT JOIN bet_requests r ON r.user_id = u.id AND r.key = %(key)s
 WHERE u.id = %(user_id)s
"""

# The bet, its legs and the stored answer to its Idempotency-Key, in one statement (placed_at is the
# transaction's now(), the time BEGIN_PLACEMENT returned).
INSERT_BET = """
WITH b AS (
    INSERT INTO bets (id, user_id, agent_id, bet_type, stake_cents, potential_payout_cents, sports)
    VALUES (%(bet_id)s, %(user_id)s, %(agent_id)s, %(bet_type)s, %(stake_cents)s, %(potential_payout_cents)s,
            %(sports)s::text[])
    RETURNING id
), legs AS (
    INSERT INTO bet_legs (bet_id, leg_no, event_id, sport, league, home_team, away_team, commence_time, market,
                          outcome, point, book, price, price_seen, point_seen, live)
    SELECT b.id, x.leg_no, x.event_id, x.sport, x.league, x.home_team, x.away_team, x.commence_time, x.market,
           x.outcome, x.point, x.book, x.price, x.price_seen, x.point_seen, x.live
      FROM b, unnest(%(leg_no)s::smallint[], %(event_id)s::text[], %(sport)s::text[], %(league)s::text[],
                     %(home_team)s::text[], %(away_team)s::text[], %(commence_time)s::timestamptz[],
                     %(market)s::text[], %(outcome)s::text[], %(point)s::numeric[], %(book)s::text[],
                     %(price)s::integer[], %(price_seen)s::integer[], %(point_seen)s::numeric[],
                     %(live)s::boolean[])
           AS x (leg_no, event_id, sport, league, home_team, away_team, commence_time, market, outcome, point,
                 book, price, price_seen, point_seen, live)
), request AS (
    INSERT INTO bet_requests (user_id, key, request_hash, bet_id, response)
    SELECT %(user_id)s, %(key)s, %(request_hash)s, b.id, %(response)s::jsonb FROM b
)
SELECT id FROM b
"""

BET_COLUMNS = """b.id, b.user_id, b.bet_type, b.status, b.stake_cents, b.potential_payout_cents, b.payout_cents,
       b.placed_at, b.settled_at, b.regraded_at"""
LEG_COLUMNS = """l.bet_id, l.leg_no, l.event_id, l.sport, l.league, l.home_team, l.away_team, l.commence_time,
       l.market, l.outcome, l.point, l.book, l.price, l.price_seen, l.point_seen, l.live, l.result, l.graded_at"""

SELECT_OWN_BET = f"SELECT {BET_COLUMNS} FROM bets b WHERE b.id = %(bet_id)s AND b.user_id = %(user_id)s"
SELECT_LEGS = f"SELECT {LEG_COLUMNS} FROM bet_legs l WHERE l.bet_id = ANY(%(bet_ids)s) ORDER BY l.bet_id, l.leg_no"

# History, newest first by id (ids never repeat, so the cursor is exact); every filter optional.
SELECT_HISTORY = f"""
SELECT {BET_COLUMNS}
  FROM bets b
 WHERE b.user_id = %(user_id)s
   AND (%(status)s::text IS NULL OR b.status = %(status)s)
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

# May ``viewer`` (an agent or admin) regrade this bet? Admins see every agent; agents their tree.
SELECT_BET_IN_SCOPE = """
SELECT b.id FROM bets b JOIN users u ON u.id = b.user_id
 WHERE b.id = %(bet_id)s
   AND u.agent_id IN (SELECT s.agent_id FROM agent_scope(%(viewer)s) s)
"""
INSERT_AUDIT = """
INSERT INTO audit_log (actor_id, action, target_type, target_id, before, after)
VALUES (%(actor_id)s, %(action)s, 'bet', %(bet_id)s, %(before)s::jsonb, %(after)s::jsonb)
"""
SELECT_ACCOUNT = "SELECT balance_cents, credit_limit_cents, pending_risk_cents FROM users WHERE id = %(user_id)s"
