-- The odds catalog, written by ingest and read by restapi (catalog, betting, grading).
--
-- Naming: a *sport* is a group ('basketball'); a *league* is what The Odds API calls a sport key
-- ('basketball_nba'). The league key is also the suffix of the Redis keys odds:{league} and
-- snap:{league}, and the `sport` field of a `results` stream entry (shared/streams.py).
-- Prices are American odds integers; points are spreads/totals lines. Outcome names follow The
-- Odds API: the team name for h2h and spreads, 'Over' / 'Under' for totals (and 'Draw' in soccer h2h).

CREATE TABLE sports (
    key        text PRIMARY KEY,                 -- 'americanfootball', 'basketball', 'soccer', ...
    title      text NOT NULL,                    -- 'American Football'
    american   boolean NOT NULL DEFAULT false,   -- NFL/NBA/MLB/NHL sports are listed first
    sort_order integer NOT NULL DEFAULT 1000,    -- lower first (American sports get the lowest)
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sports_key_format CHECK (key ~ '^[a-z0-9_]+$')
);

CREATE TABLE leagues (
    key           text PRIMARY KEY,              -- The Odds API sport key: 'basketball_nba'
    sport         text NOT NULL REFERENCES sports (key),
    title         text NOT NULL,                 -- 'NBA'
    description   text NOT NULL DEFAULT '',      -- 'US Basketball'
    american      boolean NOT NULL DEFAULT false,
    popularity    integer NOT NULL DEFAULT 0,    -- higher first within a sport
    has_outrights boolean NOT NULL DEFAULT false,
    active        boolean NOT NULL DEFAULT true, -- the provider lists it as in season
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT leagues_key_format CHECK (key ~ '^[a-z0-9_]+$')
);
CREATE INDEX leagues_sport_idx ON leagues (sport);

CREATE TABLE books (
    key        text PRIMARY KEY,                 -- 'draftkings'
    title      text NOT NULL,                    -- 'DraftKings'
    created_at timestamptz NOT NULL DEFAULT now()
);

-- status: scheduled (starts later than the upcoming window, 24 h by default), upcoming (starts
-- within it), live (started, not over), final (over, scores final), cancelled (will not be played).
CREATE TABLE events (
    id            text PRIMARY KEY,              -- the provider's event id
    sport         text NOT NULL REFERENCES sports (key),
    league        text NOT NULL REFERENCES leagues (key),
    home_team     text NOT NULL,
    away_team     text NOT NULL,
    commence_time timestamptz NOT NULL,
    status        text NOT NULL DEFAULT 'scheduled'
                  CHECK (status IN ('scheduled', 'upcoming', 'live', 'final', 'cancelled')),
    home_score    integer CHECK (home_score >= 0),
    away_score    integer CHECK (away_score >= 0),
    completed_at  timestamptz,                   -- set when status became final or cancelled
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_final_has_time CHECK (status NOT IN ('final', 'cancelled') OR completed_at IS NOT NULL)
);
CREATE INDEX events_league_status_idx ON events (league, status, commence_time);
CREATE INDEX events_status_commence_idx ON events (status, commence_time);

-- One row per event and market kind. is_open: bets may be taken; live_bettable: bets may be taken
-- while the event is live. A bet needs status in (scheduled, upcoming) and is_open, or status
-- live and is_open and live_bettable.
CREATE TABLE markets (
    event_id      text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    market        text NOT NULL CHECK (market IN ('h2h', 'spreads', 'totals')),
    is_open       boolean NOT NULL DEFAULT true,
    live_bettable boolean NOT NULL DEFAULT true,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, market)
);

-- The current price of every outcome at every book. A price taken off the board is deleted here
-- (and recorded in odds_history with a NULL price).
CREATE TABLE odds (
    event_id    text NOT NULL,
    book        text NOT NULL REFERENCES books (key),
    market      text NOT NULL,
    outcome     text NOT NULL,
    price       integer NOT NULL CHECK (price <= -100 OR price >= 100),
    point       numeric(7, 2),
    last_update timestamptz NOT NULL,            -- when this book last changed this price
    PRIMARY KEY (event_id, book, market, outcome),
    FOREIGN KEY (event_id, market) REFERENCES markets (event_id, market) ON DELETE CASCADE
);
CREATE INDEX odds_event_market_idx ON odds (event_id, market);

-- Every price change, appended; range-partitioned by UTC day. Partitions are created ahead by
-- odds_history_ensure_partitions (ingest calls it daily); days older than the retention are
-- archived to files and dropped (ingest/archive.py, recorded in odds_archives).
CREATE TABLE odds_history (
    event_id   text NOT NULL,
    book       text NOT NULL,
    market     text NOT NULL,
    outcome    text NOT NULL,
    price      integer,                          -- NULL: taken off the board
    point      numeric(7, 2),
    changed_at timestamptz NOT NULL
) PARTITION BY RANGE (changed_at);
CREATE INDEX odds_history_event_idx ON odds_history (event_id, changed_at);

CREATE FUNCTION odds_history_partition_name(day date) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT 'odds_history_' || to_char(day, 'YYYYMMDD') $$;

-- Create the partitions of `days` UTC days starting at `first_day` that do not exist yet;
-- returns how many it created. Safe to call concurrently.
CREATE FUNCTION odds_history_ensure_partitions(first_day date, days integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    d    date;
    made integer := 0;
BEGIN
    FOR i IN 0 .. days - 1 LOOP
        d := first_day + i;
        IF to_regclass(odds_history_partition_name(d)) IS NULL THEN
            BEGIN
                EXECUTE format(
                    'CREATE TABLE %I PARTITION OF odds_history FOR VALUES FROM (%L) TO (%L)',
                    odds_history_partition_name(d),
                    (d::timestamp AT TIME ZONE 'UTC'),
                    ((d + 1)::timestamp AT TIME ZONE 'UTC'));
                made := made + 1;
            EXCEPTION WHEN duplicate_table THEN
                NULL;  -- another session created it first
            END;
        END IF;
    END LOOP;
    RETURN made;
END
$$;

SELECT odds_history_ensure_partitions(((now() AT TIME ZONE 'UTC')::date) - 1, 9);

-- One row per archived day: the file, its row count and checksum. dropped_at is set once the
-- partition is gone; restored_at when a day was loaded back from its file.
CREATE TABLE odds_archives (
    day         date PRIMARY KEY,
    path        text NOT NULL,
    row_count   bigint NOT NULL CHECK (row_count >= 0),
    sha256      text NOT NULL,
    archived_at timestamptz NOT NULL DEFAULT now(),
    dropped_at  timestamptz,
    restored_at timestamptz
);

-- The sidebar: one row per league with bettable games (scheduled/upcoming/live with an open
-- market), with counts. Refreshed CONCURRENTLY by ingest after changes (debounced), so the
-- unique index is required.
CREATE MATERIALIZED VIEW sidebar AS
SELECT l.sport,
       s.title      AS sport_title,
       s.american   AS sport_american,
       s.sort_order AS sport_order,
       l.key        AS league,
       l.title      AS league_title,
       l.american   AS league_american,
       l.popularity,
       count(*)::integer                                       AS games,
       (count(*) FILTER (WHERE e.status = 'live'))::integer      AS live,
       (count(*) FILTER (WHERE e.status = 'upcoming'))::integer  AS upcoming,
       (count(*) FILTER (WHERE e.status = 'scheduled'))::integer AS scheduled
FROM leagues l
JOIN sports s ON s.key = l.sport
JOIN events e ON e.league = l.key
WHERE l.active
  AND e.status IN ('scheduled', 'upcoming', 'live')
  AND EXISTS (SELECT 1 FROM markets m WHERE m.event_id = e.id AND m.is_open
                AND (e.status <> 'live' OR m.live_bettable))
GROUP BY l.sport, s.title, s.american, s.sort_order, l.key, l.title, l.american, l.popularity
WITH DATA;
CREATE UNIQUE INDEX sidebar_league_key ON sidebar (league);
