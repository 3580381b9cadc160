"""The PromQL metric-name extractor used by the rule and dashboard checks."""

from __future__ import annotations

from tests.deploy.promql import exported_names, metric_names


def test_metric_names_skip_functions_labels_keywords_strings_and_ranges() -> None:
    expr = '''histogram_quantile(0.95, sum by (le, group) (label_replace(
        rate(http_request_duration_seconds_bucket{service="restapi", route=~"/api/v1/.*"}[5m]),
        "group", "$1", "route", "/api/v1/([^/]+).*"))) > 0.2'''
    assert metric_names(expr) == {"http_request_duration_seconds_bucket"}
    expr = ("time() - max_over_time(ingest_feed_last_update_timestamp_seconds[1h]) > on (tier) group_left "
            "2 * max by (tier) (max_over_time(ingest_feed_interval_seconds[1h]))")
    assert metric_names(expr) == {"ingest_feed_last_update_timestamp_seconds", "ingest_feed_interval_seconds"}
    assert metric_names("sum(pushd_connections offset 1m) and up == 0 or vector(1)") == {"pushd_connections", "up"}
    assert metric_names("rate(x_total{job=~\"$job\"}[$__rate_interval])") == {"x_total"}


def test_exported_names_include_families_without_samples() -> None:
    text = ("# HELP a_total A\n# TYPE a_total counter\na_total 1.0\n"
            "# HELP lat L\n# TYPE lat histogram\n"
            "# HELP g G\n# TYPE g gauge\ng{x=\"1\"} 2.0\n")
    assert {"a_total", "lat_bucket", "lat_count", "g"} <= exported_names(text)
