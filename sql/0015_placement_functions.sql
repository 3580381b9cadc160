-- Server-side halves of the two hot write paths, as PL/pgSQL functions: PostgreSQL plans their
-- statements once per connection and keeps the plans, where the same SQL sent as text is parsed and
-- planned on every call, and each call is one round trip instead of several.
--
-- The rules stay in Python (restapi/ledger, restapi/betting): the functions only read and write.

-- Append one prepared entry to an account's hash chain and apply it to the account row and the
-- daily rollup. The caller (restapi.ledger) holds the account row locked and computed seq, the
-- *_after figures and the hash from the row it read; if the chain tip moved anyway, the entry is
-- refused rather than forking the chain.
CREATE FUNCTION ledger_append(
    p_account bigint, p_seq bigint, p_amount bigint, p_risk bigint, p_balance_after bigint,
    p_risk_after bigint, p_kind text, p_ref_type text, p_ref_id text, p_actor bigint, p_memo text,
    p_meta jsonb, p_override boolean, p_created_at timestamptz, p_prev_hash text, p_hash text
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    entry_id bigint;
BEGIN
    UPDATE users
       SET balance_cents = p_balance_after, pending_risk_cents = p_risk_after,
           ledger_seq = p_seq, ledger_head = p_hash,
           last_bet_at = CASE WHEN p_kind = 'bet_risk' THEN greatest(last_bet_at, p_created_at)
                              ELSE last_bet_at END,
           last_active_at = CASE WHEN p_kind = 'bet_risk' THEN greatest(last_active_at, p_created_at)
                                 ELSE last_active_at END
     WHERE id = p_account AND ledger_seq = p_seq - 1 AND ledger_head = p_prev_hash;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'ledger chain of account % moved under entry %', p_account, p_seq
            USING ERRCODE = 'serialization_failure';
    END IF;
    INSERT INTO ledger_entries (account_id, seq, amount_cents, risk_cents, balance_after, risk_after, kind,
                                ref_type, ref_id, actor_id, memo, meta, override, created_at, prev_hash, hash)
    VALUES (p_account, p_seq, p_amount, p_risk, p_balance_after, p_risk_after, p_kind, p_ref_type, p_ref_id,
            p_actor, p_memo, p_meta, p_override, p_created_at, p_prev_hash, p_hash)
    RETURNING id INTO entry_id;
    -- Bet activity per account and UTC day (0014_ledger_daily.sql), for dashboards.
    IF p_kind IN ('bet_risk', 'bet_win', 'bet_loss') THEN
        INSERT INTO ledger_daily AS d (account_id, day, bets, handle_cents, winloss_cents)
        VALUES (p_account, (p_created_at AT TIME ZONE 'UTC')::date,
                CASE WHEN p_kind = 'bet_risk' THEN 1 ELSE 0 END,
                CASE WHEN p_kind = 'bet_risk' THEN p_risk ELSE 0 END,
                CASE WHEN p_kind = 'bet_risk' THEN 0 ELSE p_amount END)
        ON CONFLICT (account_id, day) DO UPDATE SET bets = d.bets + EXCLUDED.bets,
            handle_cents = d.handle_cents + EXCLUDED.handle_cents,
            winloss_cents = d.winloss_cents + EXCLUDED.winloss_cents;
    END IF;
    RETURN entry_id;
END
$$;

-- What the catalog says now about each (event, market, outcome) asked for: the event header, the
-- market's flags and each book's current price, as one JSON array of rows (an unknown event yields
-- no row, an unknown market NULL flags, an outcome off the board NULL prices). The slip prices with
-- it too.
CREATE FUNCTION bet_offers(p_events text[], p_markets text[], p_outcomes text[]) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(jsonb_agg(jsonb_build_array(
               x.event_id, x.market, x.outcome, e.sport, e.league, e.home_team, e.away_team, e.commence_time,
               e.status, m.is_open, m.live_bettable, o.book, o.price, o.point, o.last_update)), '[]'::jsonb)
      FROM unnest(p_events, p_markets, p_outcomes) AS x (event_id, market, outcome)
      JOIN events e ON e.id = x.event_id
      LEFT JOIN markets m ON m.event_id = x.event_id AND m.market = x.market
      LEFT JOIN odds o ON o.event_id = x.event_id AND o.market = x.market AND o.outcome = x.outcome
$$;

-- The read half of a bet placement. Locks the account row until the transaction ends (placements
-- and ledger postings of one account queue here, so a retry waits for the attempt in flight), then
-- reads, in a statement of its own (a VOLATILE function takes a new snapshot per statement, so in
-- READ COMMITTED it sees what committed while it waited): the account (status, limits, credit and
-- chain tip, stable under the lock), preferences, per-sport caps, the stored answer to this
-- Idempotency-Key if any, the new bet's id and time (so the answer is built before the insert),
-- and the offers of the selections (bet_offers). No row: no such account.
CREATE FUNCTION bet_placement_open(p_user bigint, p_key text, p_events text[], p_markets text[],
                                   p_outcomes text[])
RETURNS TABLE (status text, role text, agent_id bigint, min_wager_cents bigint, max_wager_cents bigint,
               credit_limit_cents bigint, balance_cents bigint, pending_risk_cents bigint,
               ledger_seq bigint, ledger_head text, accept_price_changes text, sport_caps jsonb,
               bet_id bigint, placed_at timestamptz, request_hash text, response jsonb, offers jsonb)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    PERFORM 1 FROM users u WHERE u.id = p_user FOR UPDATE;
    RETURN QUERY
    SELECT u.status, u.role, u.agent_id, u.min_wager_cents, u.max_wager_cents, u.credit_limit_cents,
           u.balance_cents, u.pending_risk_cents, u.ledger_seq, u.ledger_head,
           COALESCE((SELECT p.accept_price_changes FROM user_preferences p WHERE p.user_id = u.id), 'none'),
           COALESCE((SELECT jsonb_object_agg(s.sport_key, s.max_wager_cents)
                       FROM player_sport_limits s WHERE s.user_id = u.id), '{}'::jsonb),
           nextval('bets_id_seq'), now(),
           r.request_hash, r.response,
           bet_offers(p_events, p_markets, p_outcomes)
      FROM users u
      LEFT JOIN bet_requests r ON r.user_id = u.id AND r.key = p_key
     WHERE u.id = p_user;
END
$$;

-- The write half: the bet, its legs (a JSON array of objects, one per leg, keyed by column name)
-- and the stored answer to its Idempotency-Key. The caller holds the account row locked
-- (bet_placement_open).
CREATE FUNCTION bet_insert(
    p_bet_id bigint, p_user bigint, p_agent bigint, p_bet_type text, p_stake bigint, p_potential bigint,
    p_sports text[], p_legs jsonb, p_key text, p_request_hash text, p_response jsonb
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO bets (id, user_id, agent_id, bet_type, stake_cents, potential_payout_cents, sports)
    VALUES (p_bet_id, p_user, p_agent, p_bet_type, p_stake, p_potential, p_sports);
    INSERT INTO bet_legs (bet_id, leg_no, event_id, sport, league, home_team, away_team, commence_time, market,
                          outcome, point, book, price, price_seen, point_seen, live)
    SELECT p_bet_id, x.*
      FROM jsonb_to_recordset(p_legs) AS x (
               leg_no smallint, event_id text, sport text, league text, home_team text, away_team text,
               commence_time timestamptz, market text, outcome text, point numeric, book text, price integer,
               price_seen integer, point_seen numeric, live boolean);
    INSERT INTO bet_requests (user_id, key, request_hash, bet_id, response)
    VALUES (p_user, p_key, p_request_hash, p_bet_id, p_response);
END
$$;
