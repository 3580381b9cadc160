-- Kill switches and feature flags (issue 16). A switch is thrown (suspended = true) or released by
-- an admin for the whole house (owner_id NULL) or by a master agent for its own tree (owner_id = the
-- master). Betting switches cover everything, a sport, a league, an event or one market of an event;
-- feature switches turn off live betting, parlays or signups. Every change is one audit row.
-- Expand-only: new tables, nothing existing changes.
CREATE TABLE kill_switches (
    id          bigserial PRIMARY KEY,
    owner_id    bigint REFERENCES users (id),
    scope       text NOT NULL CHECK (scope IN ('global', 'sport', 'league', 'event', 'market', 'feature')),
    -- '' for global; a sport or league key; an event id; 'event_id/market'; a feature name.
    target      text NOT NULL,
    suspended   boolean NOT NULL,
    reason      text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    changed_by  bigint NOT NULL REFERENCES users (id),
    changed_at  timestamptz NOT NULL,
    CONSTRAINT kill_switches_target CHECK (
        (scope = 'global' AND target = '')
        OR (scope = 'feature' AND target IN ('live_betting', 'parlays', 'signups'))
        OR (scope IN ('sport', 'league', 'event') AND target <> '')
        OR (scope = 'market' AND target ~ '^.+/(h2h|spreads|totals)$'))
);

CREATE UNIQUE INDEX kill_switches_key ON kill_switches (COALESCE(owner_id, 0), scope, target);
CREATE INDEX kill_switches_suspended ON kill_switches (owner_id) WHERE suspended;

CREATE TABLE kill_switch_audit (
    id          bigserial PRIMARY KEY,
    switch_id   bigint NOT NULL REFERENCES kill_switches (id),
    owner_id    bigint REFERENCES users (id),
    scope       text NOT NULL,
    target      text NOT NULL,
    suspended   boolean NOT NULL,
    reason      text NOT NULL,
    actor_id    bigint NOT NULL REFERENCES users (id),
    at          timestamptz NOT NULL
);

CREATE INDEX kill_switch_audit_owner ON kill_switch_audit (owner_id, id DESC);
