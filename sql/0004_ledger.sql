-- Agent hub: the hash-chained append-only ledger, player limits, contact/notes, the audit log,
-- weekly settlement cycles with settlements and payments, cashier idempotency keys, and the
-- agent hierarchy as a SQL function. See restapi/ledger/__init__.py for the posting rules.

-- Money state kept on the account row and maintained ONLY by restapi.ledger.post (same transaction
-- as the entry): balance_cents (settled money), pending_risk_cents (stake held by open bets),
-- ledger_seq/ledger_head (the tip of the account's hash chain).
ALTER TABLE users
    ADD COLUMN pending_risk_cents bigint NOT NULL DEFAULT 0 CHECK (pending_risk_cents >= 0),
    ADD COLUMN ledger_seq         bigint NOT NULL DEFAULT 0,
    ADD COLUMN ledger_head        text   NOT NULL DEFAULT repeat('0', 64),
    ADD COLUMN max_wager_cents    bigint CHECK (max_wager_cents IS NULL OR max_wager_cents > 0),
    ADD COLUMN min_wager_cents    bigint CHECK (min_wager_cents IS NULL OR min_wager_cents > 0),
    ADD COLUMN notes              text NOT NULL DEFAULT '',
    ADD COLUMN last_active_at     timestamptz,
    ADD CONSTRAINT users_wager_range CHECK (
        min_wager_cents IS NULL OR max_wager_cents IS NULL OR min_wager_cents <= max_wager_cents);

-- Optional per-sport stake cap of a player (a sport without a row uses max_wager_cents).
CREATE TABLE player_sport_limits (
    user_id         bigint NOT NULL REFERENCES users (id),
    sport_key       text   NOT NULL CHECK (sport_key ~ '^[a-z0-9_]+$'),
    max_wager_cents bigint NOT NULL CHECK (max_wager_cents > 0),
    PRIMARY KEY (user_id, sport_key)
);

-- Each agent's weekly cycle: the week closes on ISO weekday close_dow (1 = Monday, 2 = Tuesday)
-- at close_time in the agent's timezone. Agents without a row use the defaults below.
CREATE TABLE agent_settings (
    agent_id         bigint PRIMARY KEY REFERENCES users (id),
    timezone         text     NOT NULL DEFAULT 'UTC',
    close_dow        smallint NOT NULL DEFAULT 2 CHECK (close_dow BETWEEN 1 AND 7),
    close_time       time     NOT NULL DEFAULT '00:00',
    reminder_hours   integer  NOT NULL DEFAULT 24 CHECK (reminder_hours BETWEEN 1 AND 168),
    due_days         integer  NOT NULL DEFAULT 2 CHECK (due_days BETWEEN 0 AND 30),
    master_can_write boolean  NOT NULL DEFAULT true
);

-- The ledger. One row per money movement; entry n of an account stores
-- hash = sha256(prev_hash || canonical(entry)), prev_hash of entry 1 = 64 zeros.
CREATE TABLE ledger_entries (
    id            bigserial PRIMARY KEY,
    account_id    bigint NOT NULL REFERENCES users (id),
    seq           bigint NOT NULL CHECK (seq > 0),
    amount_cents  bigint NOT NULL,
    risk_cents    bigint NOT NULL DEFAULT 0,
    balance_after bigint NOT NULL,
    risk_after    bigint NOT NULL CHECK (risk_after >= 0),
    kind          text   NOT NULL CHECK (kind IN (
        'opening_balance', 'deposit', 'withdrawal', 'adjustment', 'free_play', 'settlement',
        'bet_risk', 'bet_release', 'bet_win', 'bet_loss')),
    ref_type      text,
    ref_id        text,
    actor_id      bigint REFERENCES users (id),
    memo          text NOT NULL DEFAULT '',
    meta          jsonb NOT NULL DEFAULT '{}',
    override      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL,
    prev_hash     text NOT NULL,
    hash          text NOT NULL,
    UNIQUE (account_id, seq)
);
CREATE INDEX ledger_time_idx ON ledger_entries (created_at, kind);
CREATE INDEX ledger_account_time_idx ON ledger_entries (account_id, created_at);
CREATE INDEX ledger_ref_idx ON ledger_entries (ref_type, ref_id) WHERE ref_id IS NOT NULL;

-- Append-only: no UPDATE, DELETE or TRUNCATE, whoever asks (tests disable the trigger to tamper).
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger_entries is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER ledger_no_update_delete BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

-- Who changed what: before/after of every customer change (kept like the ledger, append-only).
CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    actor_id    bigint REFERENCES users (id),
    action      text   NOT NULL,
    target_type text   NOT NULL,
    target_id   bigint,
    before      jsonb,
    after       jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_target_idx ON audit_log (target_type, target_id, id);
CREATE TRIGGER audit_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

-- Cashier idempotency: the first response to (agent, key) is stored and replayed on retries.
CREATE TABLE cashier_requests (
    actor_id     bigint NOT NULL REFERENCES users (id),
    key          text   NOT NULL,
    request_hash text   NOT NULL,
    status       integer NOT NULL,
    response     jsonb  NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (actor_id, key)
);

-- Weekly cycles: one per agent per closing instant (the unique key makes closing idempotent).
CREATE TABLE settlement_cycles (
    id         bigserial PRIMARY KEY,
    agent_id   bigint NOT NULL REFERENCES users (id),
    week_start timestamptz NOT NULL,
    week_end   timestamptz NOT NULL,
    due_at     timestamptz NOT NULL,
    closed_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (agent_id, week_end),
    CHECK (week_start < week_end)
);

-- One settlement per player per cycle. figure_cents is the player's weekly figure (positive: the
-- book owes the player; negative: the player owes the book); paid_cents counts towards |figure|.
CREATE TABLE settlements (
    id           bigserial PRIMARY KEY,
    cycle_id     bigint NOT NULL REFERENCES settlement_cycles (id),
    player_id    bigint NOT NULL REFERENCES users (id),
    figure_cents bigint NOT NULL,
    paid_cents   bigint NOT NULL DEFAULT 0 CHECK (paid_cents >= 0),
    status       text   NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'partial', 'settled')),
    settled_at   timestamptz,
    UNIQUE (cycle_id, player_id),
    CHECK (paid_cents <= abs(figure_cents))
);
CREATE INDEX settlements_player_idx ON settlements (player_id);
CREATE INDEX settlements_open_idx ON settlements (status) WHERE status <> 'settled';

CREATE TABLE settlement_payments (
    id              bigserial PRIMARY KEY,
    settlement_id   bigint NOT NULL REFERENCES settlements (id),
    amount_cents    bigint NOT NULL CHECK (amount_cents > 0),
    method          text   NOT NULL CHECK (method IN ('cash', 'bank_transfer', 'card', 'crypto', 'other')),
    reference       text   NOT NULL DEFAULT '',
    actor_id        bigint NOT NULL REFERENCES users (id),
    ledger_entry_id bigint NOT NULL REFERENCES ledger_entries (id),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX settlement_payments_idx ON settlement_payments (settlement_id);

-- Reminder sent for (agent, closing instant): claimed before sending so it is never sent twice.
CREATE TABLE settlement_reminders (
    agent_id  bigint NOT NULL REFERENCES users (id),
    week_end  timestamptz NOT NULL,
    pending   integer NOT NULL,
    sent_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agent_id, week_end)
);

-- The agents whose books ``viewer`` may see: itself and every sub-agent below it; an admin sees
-- every agent. Every agent query joins on this, so scoping happens in SQL.
CREATE FUNCTION agent_scope(viewer bigint) RETURNS TABLE (agent_id bigint, depth integer)
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE tree (id, depth) AS (
        SELECT u.id, 0 FROM users u WHERE u.id = viewer AND u.role = 'agent'
        UNION ALL
        SELECT u.id, 0 FROM users u
         WHERE u.role = 'agent' AND EXISTS (SELECT 1 FROM users a WHERE a.id = viewer AND a.role = 'admin')
        UNION ALL
        SELECT c.id, t.depth + 1 FROM users c JOIN tree t ON c.agent_id = t.id
         WHERE c.role = 'agent' AND t.depth < 16
    )
    SELECT DISTINCT ON (id) id, depth FROM tree ORDER BY id, depth
$$;
