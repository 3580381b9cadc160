"""Prometheus metrics of ingest (exposed on the side port's /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

PROVIDER_CALLS = Counter("ingest_provider_calls_total", "Provider calls by endpoint and outcome",
                         ["provider", "endpoint", "outcome"])
PROVIDER_AUTH_FAILED = Gauge("ingest_provider_auth_failed",
                             "1 once the provider refused the API key (HTTP 401): no calls until restart",
                             ["provider"])
PROVIDER_CREDITS = Counter("ingest_provider_credits_total", "Provider credits spent", ["provider"])
CALLS_SAVED = Counter("ingest_calls_saved_total", "Provider calls saved by merging requests in a tick")
CALLS_SKIPPED = Counter("ingest_calls_skipped_total", "Paid calls not made (no games in window, or quota)",
                        ["reason"])
CHANGES = Counter("ingest_changes_total", "Changes published", ["kind"])
PUBLISHED = Counter("ingest_stream_entries_total", "Stream entries written")
BUFFERED = Gauge("ingest_buffered_batches", "Batches waiting for a sink that is down", ["sink"])
DROPPED = Counter("ingest_buffer_overflow_total", "Batches dropped when a sink's buffer overflowed", ["sink"])
SINK_ERRORS = Counter("ingest_sink_errors_total", "Failed writes to a sink (retried)", ["sink"])
RESULTS = Counter("ingest_results_total", "Final and cancelled results published", ["status"])
ARCHIVED_DAYS = Counter("ingest_archived_days_total", "odds_history days archived and dropped")
FEED_UPDATED = Gauge(
    "ingest_feed_last_update_timestamp_seconds",
    "When each league's tier was last fully current (provider clock): its oldest odds poll, or now when it has "
    "no game to poll", ["league", "tier"])
FEED_INTERVAL = Gauge("ingest_feed_interval_seconds", "Poll interval of each tier, after the quota slow-down",
                      ["tier"])
CREDITS_REMAINING = Gauge("ingest_provider_credits_remaining", "Credits the provider says are left in the plan",
                          ["provider"])
CREDITS_ALLOWANCE = Gauge("ingest_provider_credits_allowance", "Credits ingest may still spend today (budget and plan)",
                          ["provider"])
