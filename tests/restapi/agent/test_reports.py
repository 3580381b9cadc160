"""Reports (JSON and streamed CSV) and dashboards, computed from the ledger, scoped per agent."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import aiopg
import orjson
import redis.asyncio as aioredis

from restapi import ledger
from shared import streams
from tests.restapi.agent.conftest import NOW, Book

R = "/api/v1/agent/reports"


async def _bet(dsn: str, player: int, stake: int, result: int | None, at: datetime, sport: str,
               event: str, bet_type: str = "straight") -> None:
    meta = {"sport": sport, "event": event, "bet_type": bet_type}
    async with aiopg.connect(dsn) as conn, conn.cursor() as cur:
        async with cur.begin():
            await ledger.post(cur, account_id=player, amount_cents=0, risk_cents=stake, kind="bet_risk",
                              ref_type="bet", ref_id=f"{player}-{at.timestamp()}", meta=meta, at=at)
        if result is not None:
            async with cur.begin():
                await ledger.post(cur, account_id=player, amount_cents=result if result > 0 else -stake,
                                  risk_cents=-stake, kind="bet_win" if result > 0 else "bet_loss",
                                  ref_type="bet", ref_id=f"{player}-{at.timestamp()}", meta=meta, at=at)


async def _book_of_bets(dsn: str) -> datetime:
    today = NOW.replace(hour=0, minute=0, second=0, microsecond=0)
    y = today - timedelta(days=1)
    await _bet(dsn, 10, 1000, -1, y, "basketball_nba", "e1")  # alice loses 1000
    await _bet(dsn, 11, 500, 450, y, "basketball_nba", "e1")  # bob wins 450
    await _bet(dsn, 12, 2000, -1, today, "soccer_epl", "e2", "parlay")  # carol (sub-agent) loses 2000
    await _bet(dsn, 10, 300, None, today + timedelta(minutes=1), "soccer_epl", "e3")  # alice open bet
    await _bet(dsn, 20, 700, -1, today, "basketball_nba", "e1")  # zed (agent B)
    return today


async def test_performance_report_by_day_sport_and_type(book: Book) -> None:
    today = await _book_of_bets(book.dsn)
    status, body = await book.get("a", R + "/performance")
    assert status == 200
    assert body["totals"]["bets"] == 4 and body["totals"]["handle_cents"] == 3800
    assert body["totals"]["player_winloss_cents"] == -2550 and body["totals"]["book_win_cents"] == 2550
    by_sport = {r["key"]: (r["bets"], r["handle_cents"], r["book_win_cents"]) for r in body["by_sport"]}
    assert by_sport == {"basketball_nba": (2, 1500, 550), "soccer_epl": (2, 2300, 2000)}
    assert {r["key"]: r["bets"] for r in body["by_bet_type"]} == {"parlay": 1, "straight": 3}
    assert [r["key"] for r in body["by_day"]] == [str((today - timedelta(days=1)).date()), str(today.date())]
    status, body = await book.get("b", R + "/performance")
    assert body["totals"]["bets"] == 1 and body["totals"]["book_win_cents"] == 700

    resp = await book.client.get(R + "/performance", params={"format": "csv"}, headers=book.auth("a"))
    assert resp.status == 200 and resp.content_type == "text/csv"
    assert 'filename="wagerbabe-performance-' in resp.headers["Content-Disposition"]
    assert resp.headers["Content-Disposition"].endswith('-20261020-20261118.csv"')  # 30 days up to today
    rows = list(csv.reader(io.StringIO(await resp.text())))
    assert rows[0] == ["Group", "Key", "Bets", "Handle ($)", "Player win/loss ($)", "Book win ($)", "Hold %"]
    assert rows[1][:2] == ["Day", "2026-11-17"]
    assert rows[-1] == ["Total", "all", "4", "38.00", "-25.50", "25.50", "67.11"]


async def test_customer_report_streams_json_and_csv_with_quoting(book: Book) -> None:
    await _book_of_bets(book.dsn)
    await book.sql("UPDATE users SET display_name = 'Reed, \"Al\"' WHERE id = 10")
    status, body = await book.get("a", R + "/customers")
    assert status == 200
    rows = {r["login"]: r for r in body["items"]}
    assert set(rows) == {"alice", "bob", "carol"}
    assert (rows["alice"]["bets"], rows["alice"]["stake_cents"], rows["alice"]["player_winloss_cents"]) == (
        2, 1300, -1000)
    assert rows["bob"]["player_winloss_cents"] == 450 and rows["carol"]["stake_cents"] == 2000
    resp = await book.client.get(R + "/customers", params={"format": "csv"}, headers=book.auth("a"))
    text = await resp.text()
    assert resp.status == 200 and 'filename="wagerbabe-customers-' in resp.headers["Content-Disposition"]
    assert '"Reed, ""Al"""' in text  # RFC 4180 quoting
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert [r["Login"] for r in parsed] == ["alice", "bob", "carol"]
    assert parsed[0]["Name"] == 'Reed, "Al"' and parsed[0]["Stake ($)"] == "13.00"
    assert parsed[0]["Win/loss ($)"] == "-10.00" and parsed[0]["Agent"] == "agenta"
    status, body = await book.get("b", R + "/customers")
    assert [r["login"] for r in body["items"]] == ["zed"]


async def test_report_ranges_are_validated(book: Book) -> None:
    for params in ({"from": "2026-03-01", "to": "2026-02-01"}, {"from": "2024-01-01", "to": "2026-01-01"},
                   {"from": "2026-13-01"}, {"format": "xml"}):
        for path in ("/performance", "/customers"):
            status, body = await book.get("a", R + path, params=params)
            assert status == 422 and body["error"] == "validation_error", (path, params)
    status, body = await book.get("alice", R + "/performance")
    assert status == 403


async def test_agent_dashboard_and_role_based_dashboard(book: Book) -> None:
    await _book_of_bets(book.dsn)
    redis = aioredis.Redis.from_url(book.redis_url)
    try:
        await redis.hset(streams.PUSHD_NODES, mapping={"n1": orjson.dumps({"users": 3}),
                                                       "n2": orjson.dumps({"users": 2})})
    finally:
        await redis.aclose()
    status, body = await book.get("a", "/api/v1/agent/dashboard")
    assert status == 200 and body["cached"] is False
    assert body["revenue"]["this_week_cents"] + body["revenue"]["last_week_cents"] == 2550
    assert body["players"]["active_7d"] == 3 and body["players"]["total"] == 3
    assert body["players"]["online_now"] == 5
    assert body["exposure"]["open_risk_cents"] == 300
    assert body["exposure"]["by_event"] == [{"event": "e3", "open_risk_cents": 300, "bets": 1}]
    status, again = await book.get("a", "/api/v1/dashboard")
    assert status == 200 and again["cached"] is True and again["role"] == "agent"
    status, b_dash = await book.get("b", "/api/v1/agent/dashboard")
    assert b_dash["players"]["total"] == 1 and b_dash["exposure"]["open_risk_cents"] == 0
    status, mine = await book.get("alice", "/api/v1/dashboard")
    assert status == 200 and mine["role"] == "player"
    assert mine["balance_cents"] == -1000 and mine["pending_risk_cents"] == 300
    assert mine["available_cents"] == 50000 - 1000 - 300
    assert [b["event"] for b in mine["open_bets"]] == ["e3"]
    status, _ = await book.get("alice", "/api/v1/agent/dashboard")
    assert status == 403
    resp = await book.client.get("/api/v1/dashboard")
    assert resp.status == 401


def test_split_days_covers_the_interval_exactly() -> None:
    from restapi.agent.reports import split_days

    a = datetime(2026, 11, 17, 5, tzinfo=UTC)
    b = datetime(2026, 11, 24, 5, tzinfo=UTC)
    day_from, day_to, edges = split_days(a, b)
    assert (str(day_from), str(day_to)) == ("2026-11-18", "2026-11-24")
    assert edges == [(a, datetime(2026, 11, 18, tzinfo=UTC)), (datetime(2026, 11, 24, tzinfo=UTC), b)]
    midnight = datetime(2026, 11, 17, tzinfo=UTC)
    assert split_days(midnight, midnight + timedelta(days=7))[2] == []
    assert split_days(a, a + timedelta(hours=3))[2] == [(a, a + timedelta(hours=3))]
    assert split_days(a, a) [2] == []


async def test_ledger_daily_rollup_matches_the_ledger(book: Book) -> None:
    await _book_of_bets(book.dsn)
    rollup = await book.sql("SELECT account_id, day, bets, handle_cents, winloss_cents FROM ledger_daily "
                            "ORDER BY 1, 2")
    raw = await book.sql("""
        SELECT account_id, (created_at AT TIME ZONE 'UTC')::date,
               count(*) FILTER (WHERE kind = 'bet_risk')::int,
               coalesce(sum(risk_cents) FILTER (WHERE kind = 'bet_risk'), 0)::bigint,
               coalesce(sum(amount_cents) FILTER (WHERE kind IN ('bet_win', 'bet_loss')), 0)::bigint
          FROM ledger_entries GROUP BY 1, 2 ORDER BY 1, 2""")
    assert rollup == raw and len(rollup) >= 5


async def test_dashboard_revenue_equals_the_ledger_for_a_non_utc_week(book: Book) -> None:
    """Rollup days plus partial-day edges add up to exactly the ledger's win/loss in each week."""
    from restapi.agent.cycles import Schedule, week_bounds

    await book.sql("INSERT INTO agent_settings (agent_id, timezone, close_dow, close_time) "
                   "VALUES (2, 'America/New_York', 2, '06:30')")
    now = NOW
    for hours in range(3, 15 * 24, 7):
        await _bet(book.dsn, 10 + hours % 3, 100 + hours, 1 if hours % 2 else -1, now - timedelta(hours=hours),
                   "soccer_epl", "e9")
    schedule = Schedule(timezone="America/New_York", close_time=datetime.strptime("06:30", "%H:%M").time())
    this_start, _ = week_bounds(now, schedule, current=True)
    last_start, _ = week_bounds(this_start - timedelta(seconds=1), schedule, current=True)
    (this_raw, last_raw), = await book.sql("""
        SELECT coalesce(sum(amount_cents) FILTER (WHERE created_at >= %(t)s), 0)::bigint,
               coalesce(sum(amount_cents) FILTER (WHERE created_at < %(t)s), 0)::bigint
          FROM ledger_entries WHERE kind IN ('bet_win', 'bet_loss') AND created_at >= %(l)s""",
                                           {"t": this_start, "l": last_start})
    status, body = await book.get("a", "/api/v1/agent/dashboard")
    assert status == 200 and body["week"]["start"] == this_start.isoformat()
    assert body["revenue"] == {"this_week_cents": -this_raw, "last_week_cents": -last_raw}
    assert this_raw != 0 and last_raw != 0


async def test_report_days_are_inclusive_business_days_in_the_agents_time_zone(book: Book) -> None:
    """Oct 31-Nov 15 for a New York agent closing at 06:00 is [Oct 31 06:00 EDT, Nov 16 06:00 EST): 16 days
    across the end of daylight saving time (Nov 1)."""
    await book.sql("INSERT INTO agent_settings (agent_id, timezone, close_dow, close_time) "
                   "VALUES (2, 'America/New_York', 2, '06:00')")
    first = datetime(2026, 10, 31, 10, tzinfo=UTC)  # Oct 31 06:00 EDT: the first instant of the range
    last = datetime(2026, 11, 16, 11, tzinfo=UTC)  # Nov 16 06:00 EST: the first instant after it
    await _bet(book.dsn, 10, 100, -1, first - timedelta(seconds=1), "soccer_epl", "before")
    await _bet(book.dsn, 10, 200, -1, first, "soccer_epl", "in-first")
    await _bet(book.dsn, 11, 300, -1, last - timedelta(seconds=1), "soccer_epl", "in-last")
    await _bet(book.dsn, 11, 400, -1, last, "soccer_epl", "after")
    params = {"from": "2026-10-31", "to": "2026-11-15"}
    status, body = await book.get("a", R + "/performance", params=params)
    assert status == 200 and (body["from"], body["to"], body["timezone"]) == ("2026-10-31", "2026-11-15",
                                                                            "America/New_York")
    assert body["starts_at"] == first.isoformat() and body["ends_at"] == last.isoformat()
    assert body["totals"]["handle_cents"] == 500
    assert [(d["key"], d["handle_cents"]) for d in body["by_day"]] == [("2026-10-31", 200), ("2026-11-15", 300)]
    status, body = await book.get("a", R + "/customers", params=params)
    assert {r["login"]: r["stake_cents"] for r in body["items"]} == {"alice": 200, "bob": 300, "carol": 0}
    assert body["from"] == "2026-10-31" and body["to"] == "2026-11-15"
    for kind in ("performance", "customers"):
        resp = await book.client.get(R + f"/{kind}", params={**params, "format": "csv"}, headers=book.auth("a"))
        assert resp.headers["Content-Disposition"] == f'attachment; filename="wagerbabe-{kind}-20261031-20261115.csv"'
    status, body = await book.get("a", R + "/performance", params={"from": "2026-11-15", "to": "2026-11-15"})
    assert [d["key"] for d in body["by_day"]] == ["2026-11-15"] and body["totals"]["handle_cents"] == 300


async def test_a_reversed_range_is_refused_in_plain_words(book: Book) -> None:
    status, body = await book.get("a", R + "/customers", params={"from": "2026-11-15", "to": "2026-11-01"})
    assert status == 422
    assert body["message"] == "The end date is before the start date"
    assert body["details"] == {"to": ["pick a date on or after the start date"]}


async def test_owner_filter_narrows_a_report_to_one_agents_book(book: Book) -> None:
    await _book_of_bets(book.dsn)
    status, body = await book.get("a", R + "/customers", params={"agent_id": "3"})
    assert status == 200 and [r["login"] for r in body["items"]] == ["carol"]
    assert body["items"][0]["agent_login"] == "agenta2"
    status, body = await book.get("a", R + "/performance", params={"agent_id": "3"})
    assert body["totals"]["handle_cents"] == 2000
    status, body = await book.get("a", R + "/performance", params={"agent_id": "4"})  # agent B: not a's
    assert status == 404 and body["message"] == "No such agent in your book"
