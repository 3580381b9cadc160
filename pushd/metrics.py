"""Prometheus metrics of pushd (exposed with the shared ones at GET /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CONNECTIONS = Gauge("pushd_connections", "Authenticated WebSocket connections")
SUBSCRIPTIONS = Gauge("pushd_subscriptions", "Subscriptions by topic kind", ["kind"])
FRAMES_OUT = Counter("pushd_frames_out_total", "Frames written to sockets")
BYTES_OUT = Counter("pushd_bytes_out_total", "Bytes written to sockets")
SLOW_CLOSES = Counter("pushd_slow_consumer_closes_total", "Sockets closed 4008 for a full send buffer")
CLOSES = Counter("pushd_closes_total", "Sockets closed by the server, by close code", ["code"])
CLIENT_ERRORS = Counter("pushd_client_errors_total", "error frames sent for client mistakes", ["code"])
RESUMES = Counter("pushd_resume_total", "Subscription outcomes", ["outcome"])  # replayed, snapshot, live
RECOVERING = Counter("pushd_recovering_total",
                     "Subscriptions answered 'recovering' (the sport's snapshot was missing) instead of a snapshot")
READER_LAG = Histogram(
    "pushd_reader_lag_seconds", "Now minus the stream entry's time when the reader fans it out",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
READER_UP = Gauge("pushd_reader_connected", "1 while the stream reader reaches Redis")
SINGLE_FLIGHT_MERGED = Counter("pushd_single_flight_merged_total", "Recovery reads merged into another's call")
STREAM_BEHIND = Counter("pushd_stream_behind_total",
                        "Resyncs because a stream ended before the reader's offset (entries lost in a failover)")
