"""Grafana dashboards: well-formed JSON models (the metric names they read are checked against running
services in test_prometheus.py)."""

from __future__ import annotations

from tests.deploy.helpers import dashboards
from tests.deploy.promql import metric_names

WANTED = {"http.json", "push.json", "feed.json", "betting.json", "data.json"}


def test_each_dashboard_is_a_grafana_model_with_titled_panels_on_a_prometheus_source() -> None:
    boards = dashboards()
    assert set(boards) == WANTED
    assert len({b["uid"] for b in boards.values()}) == len(boards)
    for name, board in boards.items():
        assert board["title"].startswith("WagerBabe · ") and board["schemaVersion"] >= 36, name
        assert [v["name"] for v in board["templating"]["list"]] == ["datasource"], name
        assert len({p["id"] for p in board["panels"]}) == len(board["panels"]), name
        for panel in board["panels"]:
            grid = panel["gridPos"]
            assert panel["title"] and panel["datasource"]["uid"] == "${datasource}", (name, panel)
            assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24 and grid["h"] > 0, (name, panel["title"])
            refs = [t["refId"] for t in panel["targets"]]
            assert refs and len(set(refs)) == len(refs), (name, panel["title"])
            assert all(metric_names(t["expr"]) for t in panel["targets"]), (name, panel["title"])


def test_the_dashboards_cover_the_issue_panels() -> None:
    used = {n for b in dashboards().values() for p in b["panels"] for t in p["targets"]
            for n in metric_names(t["expr"])}
    for metric in ("http_requests_total", "http_request_duration_seconds_bucket", "pushd_connections",
                   "pushd_frames_out_total", "pushd_slow_consumer_closes_total", "pushd_reader_lag_seconds_bucket",
                   "ingest_feed_last_update_timestamp_seconds", "ingest_provider_credits_allowance",
                   "bets_placed_total", "grader_oldest_pending_final_seconds", "bets_open_risk_cents",
                   "cashier_moved_cents_total", "pg_replication_lag_seconds", "redis_memory_used_bytes"):
        assert metric in used, metric
