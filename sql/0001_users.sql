-- Users of every role in one table: players belong to an agent, sub-agents to a master agent.
-- Money is integer cents. The ledger (agent hub) becomes the source of balance_cents.
CREATE TABLE users (
    id                 bigserial PRIMARY KEY,
    login              text NOT NULL,
    email              text,
    password_hash      text,
    display_name       text NOT NULL DEFAULT '',
    phone              text,
    role               text NOT NULL CHECK (role IN ('player', 'agent', 'admin')),
    agent_id           bigint REFERENCES users (id),
    status             text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
    balance_cents      bigint NOT NULL DEFAULT 0,
    credit_limit_cents bigint NOT NULL DEFAULT 0 CHECK (credit_limit_cents >= 0),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_normalised CHECK (email IS NULL OR email = lower(btrim(email))),
    CONSTRAINT users_login_normalised CHECK (login = lower(btrim(login)) AND login <> ''),
    -- A player always has an agent; an admin never does.
    CONSTRAINT users_player_has_agent CHECK (role <> 'player' OR agent_id IS NOT NULL),
    CONSTRAINT users_admin_top CHECK (role <> 'admin' OR agent_id IS NULL),
    CONSTRAINT users_not_own_agent CHECK (agent_id IS NULL OR agent_id <> id)
);

CREATE UNIQUE INDEX users_login_key ON users (login);
CREATE UNIQUE INDEX users_email_key ON users (email) WHERE email IS NOT NULL;
CREATE INDEX users_agent_idx ON users (agent_id, role);
