"""The catalog schema (sql/0003_catalog.sql): day partitions ahead, constraints, the sidebar view."""

from __future__ import annotations

import psycopg2
import pytest


def _q(url: str, sql: str, params: dict[str, object] | None = None) -> list[tuple[object, ...]]:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def test_migration_creates_day_partitions_ahead(database_url: str) -> None:
    rows = _q(database_url, """
        SELECT count(*) FROM pg_inherits WHERE inhparent = 'odds_history'::regclass""")
    assert rows[0][0] >= 8
    # Calling again creates nothing new; asking further ahead creates exactly the missing days.
    made = _q(database_url, "SELECT odds_history_ensure_partitions((now() AT TIME ZONE 'UTC')::date, 3)")
    assert made[0][0] == 0
    made = _q(database_url, "SELECT odds_history_ensure_partitions((now() AT TIME ZONE 'UTC')::date + 20, 2)")
    assert made[0][0] == 2


def test_sidebar_counts_only_bettable_games_and_refreshes_concurrently(database_url: str) -> None:
    _q(database_url, """
        INSERT INTO sports (key, title, american, sort_order) VALUES ('basketball', 'Basketball', true, 2);
        INSERT INTO leagues (key, sport, title, american, popularity)
          VALUES ('basketball_nba', 'basketball', 'NBA', true, 90);
        INSERT INTO events (id, sport, league, home_team, away_team, commence_time, status) VALUES
          ('e1', 'basketball', 'basketball_nba', 'A', 'B', now() + interval '1 hour', 'upcoming'),
          ('e2', 'basketball', 'basketball_nba', 'C', 'D', now() - interval '1 hour', 'live'),
          ('e3', 'basketball', 'basketball_nba', 'E', 'F', now() + interval '1 hour', 'upcoming');
        INSERT INTO markets (event_id, market, is_open, live_bettable) VALUES
          ('e1', 'h2h', true, true), ('e2', 'h2h', true, true), ('e3', 'h2h', false, true);
        REFRESH MATERIALIZED VIEW CONCURRENTLY sidebar;""")
    rows = _q(database_url, "SELECT league, games, live, upcoming FROM sidebar")
    assert rows == [("basketball_nba", 2, 1, 1)]


def test_odds_reject_prices_between_minus_100_and_100(database_url: str) -> None:
    _q(database_url, """
        INSERT INTO sports (key, title) VALUES ('soccer', 'Soccer');
        INSERT INTO leagues (key, sport, title) VALUES ('soccer_epl', 'soccer', 'EPL');
        INSERT INTO books (key, title) VALUES ('fanduel', 'FanDuel');
        INSERT INTO events (id, sport, league, home_team, away_team, commence_time) VALUES
          ('e1', 'soccer', 'soccer_epl', 'A', 'B', now());
        INSERT INTO markets (event_id, market) VALUES ('e1', 'h2h');""")
    with pytest.raises(psycopg2.IntegrityError):
        _q(database_url, """INSERT INTO odds (event_id, book, market, outcome, price, last_update)
                            VALUES ('e1', 'fanduel', 'h2h', 'A', 50, now())""")
