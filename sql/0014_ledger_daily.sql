-- Per-account daily rollup of bet activity, maintained by restapi.ledger.post in the same
-- transaction as each bet entry (the account row is already locked there, so it adds no new
-- contention). Dashboards read whole UTC days from here and only the partial edges from the ledger.
CREATE TABLE ledger_daily (
    account_id   bigint NOT NULL REFERENCES users (id),
    day          date   NOT NULL,
    bets         integer NOT NULL DEFAULT 0,
    handle_cents bigint  NOT NULL DEFAULT 0,
    winloss_cents bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, day)
);
CREATE INDEX ledger_daily_day_idx ON ledger_daily (day, account_id) INCLUDE (bets, handle_cents, winloss_cents);

-- Backfill from entries posted before this migration.
INSERT INTO ledger_daily (account_id, day, bets, handle_cents, winloss_cents)
SELECT account_id, (created_at AT TIME ZONE 'UTC')::date,
       count(*) FILTER (WHERE kind = 'bet_risk'),
       coalesce(sum(risk_cents) FILTER (WHERE kind = 'bet_risk'), 0),
       coalesce(sum(amount_cents) FILTER (WHERE kind IN ('bet_win', 'bet_loss')), 0)
  FROM ledger_entries WHERE kind IN ('bet_risk', 'bet_win', 'bet_loss')
 GROUP BY 1, 2;

-- When the player last placed a bet (set by ledger.post on bet_risk): "active in 7 days" without
-- scanning the ledger.
ALTER TABLE users ADD COLUMN last_bet_at timestamptz;
UPDATE users u SET last_bet_at = t.at
  FROM (SELECT account_id, max(created_at) AS at FROM ledger_entries WHERE kind = 'bet_risk' GROUP BY 1) t
 WHERE u.id = t.account_id;

-- Cash movements per account and time, for the customer activity report.
CREATE INDEX ledger_cash_idx ON ledger_entries (account_id, created_at) WHERE kind IN ('deposit', 'withdrawal');
