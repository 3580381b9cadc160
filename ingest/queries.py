"""ingest's SQL: catalog upserts, current odds, history appends, partitions and the sidebar view.

Batches go in as arrays (``unnest``), one statement per table per batch.
"""

from __future__ import annotations

UPSERT_SPORTS = """
INSERT INTO sports (key, title, american, sort_order)
SELECT * FROM unnest(%(keys)s::text[], %(titles)s::text[], %(american)s::boolean[], %(orders)s::integer[])
ON CONFLICT (key) DO UPDATE SET title = EXCLUDED.title, american = EXCLUDED.american,
                                sort_order = EXCLUDED.sort_order
"""

UPSERT_LEAGUES = """
INSERT INTO leagues (key, sport, title, description, american, popularity, has_outrights, active)
SELECT * FROM unnest(%(keys)s::text[], %(sports)s::text[], %(titles)s::text[], %(descriptions)s::text[],
                     %(american)s::boolean[], %(popularity)s::integer[], %(outrights)s::boolean[],
                     %(active)s::boolean[])
ON CONFLICT (key) DO UPDATE SET sport = EXCLUDED.sport, title = EXCLUDED.title,
    description = EXCLUDED.description, american = EXCLUDED.american, popularity = EXCLUDED.popularity,
    has_outrights = EXCLUDED.has_outrights, active = EXCLUDED.active, updated_at = now()
"""

UPSERT_BOOKS = """
INSERT INTO books (key, title)
SELECT * FROM unnest(%(keys)s::text[], %(titles)s::text[])
ON CONFLICT (key) DO UPDATE SET title = EXCLUDED.title
"""

UPSERT_EVENTS = """
INSERT INTO events (id, sport, league, home_team, away_team, commence_time, status, home_score, away_score,
                    completed_at)
SELECT id, sport, league, home, away, commence, status, hs, aws,
       CASE WHEN status IN ('final', 'cancelled') THEN now() END
FROM unnest(%(ids)s::text[], %(sports)s::text[], %(leagues)s::text[], %(homes)s::text[], %(aways)s::text[],
            %(commences)s::timestamptz[], %(statuses)s::text[], %(home_scores)s::integer[],
            %(away_scores)s::integer[]) AS u(id, sport, league, home, away, commence, status, hs, aws)
ON CONFLICT (id) DO UPDATE SET home_team = EXCLUDED.home_team, away_team = EXCLUDED.away_team,
    commence_time = EXCLUDED.commence_time, status = EXCLUDED.status, home_score = EXCLUDED.home_score,
    away_score = EXCLUDED.away_score,
    completed_at = CASE WHEN EXCLUDED.status IN ('final', 'cancelled')
                        THEN coalesce(events.completed_at, now()) END,
    updated_at = now()
"""

UPSERT_MARKETS = """
INSERT INTO markets (event_id, market, is_open, live_bettable)
SELECT * FROM unnest(%(events)s::text[], %(markets)s::text[], %(open)s::boolean[], %(live)s::boolean[])
ON CONFLICT (event_id, market) DO UPDATE SET is_open = EXCLUDED.is_open, live_bettable = EXCLUDED.live_bettable,
    updated_at = now()
WHERE markets.is_open IS DISTINCT FROM EXCLUDED.is_open OR markets.live_bettable IS DISTINCT FROM EXCLUDED.live_bettable
"""

CLOSE_MARKETS = """
UPDATE markets SET is_open = false, updated_at = now() WHERE event_id = ANY(%(events)s::text[]) AND is_open
"""

DELETE_EVENT_ODDS = "DELETE FROM odds WHERE event_id = ANY(%(events)s::text[])"

# Open games of the polled leagues that ingest no longer holds (they left the board while it was
# down, or Redis lost them): take them off the board until the provider lists them again.
STALE_OPEN_EVENTS = """
SELECT id FROM events
WHERE league = ANY(%(leagues)s::text[]) AND status IN ('scheduled', 'upcoming', 'live')
  AND id <> ALL(%(known)s::text[])
"""

UPSERT_ODDS = """
INSERT INTO odds (event_id, book, market, outcome, price, point, last_update)
SELECT e, b, m, o, p, pt, to_timestamp(t / 1000.0)
FROM unnest(%(events)s::text[], %(books)s::text[], %(markets)s::text[], %(outcomes)s::text[],
            %(prices)s::integer[], %(points)s::numeric[], %(ts)s::bigint[]) AS u(e, b, m, o, p, pt, t)
ON CONFLICT (event_id, book, market, outcome) DO UPDATE SET price = EXCLUDED.price, point = EXCLUDED.point,
    last_update = EXCLUDED.last_update
"""

DELETE_ODDS = """
DELETE FROM odds o USING unnest(%(events)s::text[], %(books)s::text[], %(markets)s::text[],
                                %(outcomes)s::text[]) AS u(e, b, m, oc)
WHERE o.event_id = u.e AND o.book = u.b AND o.market = u.m AND o.outcome = u.oc
"""

INSERT_HISTORY = """
INSERT INTO odds_history (event_id, book, market, outcome, price, point, changed_at)
SELECT e, b, m, o, p, pt, %(at)s
FROM unnest(%(events)s::text[], %(books)s::text[], %(markets)s::text[], %(outcomes)s::text[],
            %(prices)s::integer[], %(points)s::numeric[]) AS u(e, b, m, o, p, pt)
"""

ENSURE_PARTITIONS = "SELECT odds_history_ensure_partitions(%(first)s::date, %(days)s)"

REFRESH_SIDEBAR = "REFRESH MATERIALIZED VIEW CONCURRENTLY sidebar"
