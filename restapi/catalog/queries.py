"""Named SQL of the catalog route group (read-only)."""

from __future__ import annotations

SIDEBAR = """
SELECT sport, sport_title, sport_american, sport_order, league, league_title, league_american, popularity,
       games, live, upcoming, scheduled
FROM sidebar
ORDER BY sport_order, sport, league_american DESC, popularity DESC, league_title
"""

SPORT_EXISTS = "SELECT title FROM sports WHERE key = %(sport)s"

LEAGUE = "SELECT key, sport, title FROM leagues WHERE key = %(league)s"

EVENT_EXISTS = "SELECT 1 FROM events WHERE id = %(event)s"

# Bettable games only (an open market), live first, then by start time; ``total`` counts every match.
EVENTS_PAGE = """
SELECT e.id, e.sport, e.league, l.title, e.home_team, e.away_team, e.commence_time, e.status, e.home_score,
       e.away_score, count(*) OVER () AS total
FROM events e JOIN leagues l ON l.key = e.league
WHERE (%(sport)s::text IS NULL OR e.sport = %(sport)s)
  AND (%(league)s::text IS NULL OR e.league = %(league)s)
  AND (%(event)s::text IS NULL OR e.id = %(event)s)
  AND e.status = ANY(%(statuses)s::text[])
  AND EXISTS (SELECT 1 FROM markets m WHERE m.event_id = e.id AND m.is_open)
ORDER BY e.status = 'live' DESC, e.commence_time, e.id
LIMIT %(limit)s OFFSET %(offset)s
"""

EVENT = """
SELECT e.id, e.sport, e.league, l.title, e.home_team, e.away_team, e.commence_time, e.status, e.home_score,
       e.away_score, 1 AS total
FROM events e JOIN leagues l ON l.key = e.league
WHERE e.id = %(event)s
"""

MARKETS = """
SELECT event_id, market, is_open, live_bettable FROM markets WHERE event_id = ANY(%(events)s::text[])
ORDER BY event_id, market
"""

ODDS = """
SELECT o.event_id, o.book, b.title, o.market, o.outcome, o.price, o.point, o.last_update
FROM odds o JOIN books b ON b.key = o.book
WHERE o.event_id = ANY(%(events)s::text[]) AND (%(books)s::text[] IS NULL OR o.book = ANY(%(books)s::text[]))
ORDER BY o.event_id, o.book, o.market, o.outcome
"""
