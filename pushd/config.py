"""pushd settings (``PUSHD_*`` plus the common ones)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.config import CommonSettings, setting
from shared.connguard import ConnLimits


@dataclass(frozen=True, slots=True)
class PushSettings(CommonSettings):
    """Everything pushd reads from the environment."""

    host: str = setting("PUSHD_HOST", "127.0.0.1", help="Address pushd listens on")
    port: int = setting("PUSHD_PORT", 8081, help="Port pushd listens on (0: any free port)", min=0, max=65535)
    node_id: str = setting("PUSHD_NODE_ID", "", help="This node's id in pushd:nodes; empty: host-pid")
    reuse_port: bool = setting(
        "PUSHD_REUSE_PORT", False, help="Set SO_REUSEPORT so several pushd processes share one port"
    )
    jwks_url: str = setting(
        "PUSHD_JWKS_URL", "", help="Optional JWKS URL whose keys also verify access JWTs (fetched at start)"
    )
    redis_max_connections: int = setting(
        "PUSHD_REDIS_MAX_CONNECTIONS", 32, help="Redis connections per process (more requests wait for one)",
        min=2, max=10_000,
    )
    hello_timeout: float = setting(
        "PUSHD_HELLO_TIMEOUT", 10.0, help="Seconds a socket has to send `hello` (else close 4001)", min=0.1, max=120
    )
    ping_interval: float = setting(
        "PUSHD_PING_INTERVAL", 25.0, help="Seconds between server pings; no pong within half of it closes",
        min=1, max=600,
    )
    max_frame_bytes: int = setting(
        "PUSHD_MAX_FRAME_BYTES", 8192, help="Largest client frame accepted (larger: close 1009)", min=256,
        max=1_048_576,
    )
    max_topics: int = setting("PUSHD_MAX_TOPICS", 64, help="Topics one socket may hold", min=1, max=10_000)
    max_client_frames: int = setting(
        "PUSHD_MAX_CLIENT_FRAMES", 100, help="Client frames allowed per 10 s window (above: close 4029)",
        min=1, max=1_000_000,
    )
    max_client_subs: int = setting(
        "PUSHD_MAX_CLIENT_SUBS", 20,
        help="sub frames allowed per 10 s window, within PUSHD_MAX_CLIENT_FRAMES (above: close 4029)",
        min=1, max=1_000_000,
    )
    max_buffer_bytes: int = setting(
        "PUSHD_MAX_BUFFER_BYTES", 1_048_576,
        help="Unsent bytes a socket may hold before it is closed 4008 (slow consumer)", min=1024,
        max=1_073_741_824,
    )
    replay_limit: int = setting(
        "PUSHD_REPLAY_LIMIT", 1000, help="Most entries replayed on resume; further behind gets a snapshot",
        min=1, max=100_000,
    )
    read_block_ms: int = setting(
        "PUSHD_READ_BLOCK_MS", 500, help="XREAD BLOCK timeout of the stream reader (ms)", min=10, max=60_000
    )
    read_count: int = setting("PUSHD_READ_COUNT", 500, help="Entries per stream per XREAD", min=1, max=100_000)
    rescan_interval: float = setting(
        "PUSHD_RESCAN_INTERVAL", 5.0, help="Seconds between scans for new sport streams", min=0.1, max=3600
    )
    heartbeat_interval: float = setting(
        "PUSHD_HEARTBEAT_INTERVAL", 5.0, help="Seconds between this node's pushd:nodes heartbeats", min=0.1,
        max=600,
    )
    drain_window: float = setting(
        "PUSHD_DRAIN_WINDOW", 3.0, help="On SIGTERM, reconnect hints spread clients over this many seconds",
        min=0, max=300,
    )
    header_timeout: float = setting(
        "PUSHD_HEADER_TIMEOUT", 10.0, help="Seconds a connection has to send its request headers (else 408, close)",
        min=0.01, max=10,
    )
    body_timeout: float = setting(
        "PUSHD_BODY_TIMEOUT", 10.0, help="Seconds a request body has to arrive (else 408, close)", min=0.01, max=10
    )
    max_conns_per_ip: int = setting(
        "PUSHD_MAX_CONNS_PER_IP", 100, help="Connections one client address may hold (above: 429, close; 0: no cap)",
        min=0,
    )
    trusted_proxies: tuple[str, ...] = setting(
        "PUSHD_TRUSTED_PROXIES", (), help="Comma-separated proxy IPs exempt from the per-address cap (the proxy "
                                          "caps each client itself)"
    )

    def conn_limits(self) -> ConnLimits:
        """The slow-client limits of this node (``shared.connguard``)."""
        return ConnLimits(self.header_timeout, self.body_timeout, self.max_conns_per_ip, self.trusted_proxies)
