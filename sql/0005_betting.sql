-- Betting: bets, their legs, and the idempotency keys of bet requests. Bet data is kept forever:
-- rows are never deleted (a trigger refuses DELETE and TRUNCATE); only status/result columns change.
-- Money moves only through the ledger (ledger_entries with ref_type 'bet', ref_id = bets.id).

-- status: open until settled; then won / lost / push (stake back) / void (every leg void).
-- potential_payout_cents: total return if every leg wins, at the accepted prices.
-- payout_cents: the total return paid when settled (0 for lost, the stake for push/void).
CREATE TABLE bets (
    id                     bigserial PRIMARY KEY,
    user_id                bigint NOT NULL REFERENCES users (id),
    agent_id               bigint REFERENCES users (id),
    bet_type               text   NOT NULL CHECK (bet_type IN ('straight', 'parlay')),
    stake_cents            bigint NOT NULL CHECK (stake_cents > 0),
    potential_payout_cents bigint NOT NULL CHECK (potential_payout_cents >= stake_cents),
    status                 text   NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'won', 'lost', 'push', 'void')),
    payout_cents           bigint CHECK (payout_cents >= 0),
    sports                 text[] NOT NULL,  -- sport and league keys of every leg (history filter)
    placed_at              timestamptz NOT NULL DEFAULT now(),
    settled_at             timestamptz,
    regraded_at            timestamptz,
    CONSTRAINT bets_settled_has_payout CHECK ((status = 'open') = (payout_cents IS NULL))
);
CREATE INDEX bets_user_idx ON bets (user_id, id DESC);
CREATE INDEX bets_user_status_idx ON bets (user_id, status, id DESC);
CREATE INDEX bets_agent_idx ON bets (agent_id, placed_at);

-- One row per leg (a straight has one). The event's teams and start are copied at placement so a
-- leg can be graded and shown even after the catalog forgot the event.
CREATE TABLE bet_legs (
    bet_id        bigint   NOT NULL REFERENCES bets (id),
    leg_no        smallint NOT NULL CHECK (leg_no > 0),
    event_id      text     NOT NULL,
    sport         text     NOT NULL,
    league        text     NOT NULL,
    home_team     text     NOT NULL,
    away_team     text     NOT NULL,
    commence_time timestamptz NOT NULL,
    market        text     NOT NULL CHECK (market IN ('h2h', 'spreads', 'totals')),
    outcome       text     NOT NULL,
    point         numeric(7, 2),
    book          text     NOT NULL,
    price         integer  NOT NULL CHECK (price <= -100 OR price >= 100),  -- accepted
    price_seen    integer  NOT NULL CHECK (price_seen <= -100 OR price_seen >= 100),
    point_seen    numeric(7, 2),
    live          boolean  NOT NULL DEFAULT false,  -- taken while the event was live
    result        text     NOT NULL DEFAULT 'pending'
                  CHECK (result IN ('pending', 'won', 'lost', 'push', 'void')),
    graded_at     timestamptz,
    PRIMARY KEY (bet_id, leg_no)
);
CREATE INDEX bet_legs_pending_event_idx ON bet_legs (event_id) WHERE result = 'pending';

-- The first answer to (user, Idempotency-Key), inserted with the bet by the placing transaction,
-- which holds the account row locked: a concurrent retry with the same key waits on that lock until
-- the first attempt ends, then finds this row and replays the stored response (or, if the first
-- attempt was refused and rolled back, goes ahead itself).
CREATE TABLE bet_requests (
    user_id      bigint NOT NULL REFERENCES users (id),
    key          text   NOT NULL,
    request_hash text   NOT NULL,
    bet_id       bigint REFERENCES bets (id),
    response     jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

CREATE FUNCTION betting_keep_forever() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is kept forever (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER bets_no_delete BEFORE DELETE ON bets FOR EACH ROW EXECUTE FUNCTION betting_keep_forever();
CREATE TRIGGER bets_no_truncate BEFORE TRUNCATE ON bets FOR EACH STATEMENT EXECUTE FUNCTION betting_keep_forever();
CREATE TRIGGER bet_legs_no_delete BEFORE DELETE ON bet_legs FOR EACH ROW EXECUTE FUNCTION betting_keep_forever();
CREATE TRIGGER bet_legs_no_truncate BEFORE TRUNCATE ON bet_legs
    FOR EACH STATEMENT EXECUTE FUNCTION betting_keep_forever();
CREATE TRIGGER bet_requests_no_delete BEFORE DELETE ON bet_requests
    FOR EACH ROW EXECUTE FUNCTION betting_keep_forever();
