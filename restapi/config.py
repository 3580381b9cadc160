"""restapi settings (``RESTAPI_*`` plus the common ones)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.config import CommonSettings, setting
from shared.connguard import ConnLimits


@dataclass(frozen=True, slots=True)
class RestSettings(CommonSettings):
    """Everything restapi reads from the environment."""

    host: str = setting("RESTAPI_HOST", "127.0.0.1", help="Address restapi listens on")
    port: int = setting("RESTAPI_PORT", 8080, help="Port restapi listens on (0: any free port)", min=0, max=65535)
    reuse_port: bool = setting(
        "RESTAPI_REUSE_PORT", False, help="Set SO_REUSEPORT so several restapi processes share one port (one per core)"
    )
    public_url: str = setting(
        "RESTAPI_PUBLIC_URL", "",
        help="Public origin of the site (https://host): mailed links point here; empty: no reset link is mailed",
    )
    public_origins: tuple[str, ...] = setting(
        "RESTAPI_PUBLIC_ORIGINS", (),
        help="More public origins (comma-separated) that links and cookie requests may use; never taken from Host",
    )
    push_url: str = setting(
        "RESTAPI_PUSH_URL", "ws://127.0.0.1:8081/ws", help="Public WebSocket URL of pushd that the web pages connect to"
    )
    max_body_bytes: int = setting(
        "RESTAPI_MAX_BODY_BYTES", 256 * 1024, help="Largest request body accepted (413 above)", min=1024
    )
    replica_sticky_seconds: float = setting(
        "REPLICA_STICKY_SECONDS", 5.0, min=0, max=3600,
        help="Seconds a user's reads stay on the primary after they wrote (read-your-writes with a replica)",
    )
    jobs_host: str = setting("JOBS_HOST", "127.0.0.1", help="Address of the jobs process's health/metrics port")
    jobs_port: int = setting("JOBS_PORT", 9102, help="Health/metrics port of the jobs process", min=0, max=65535)
    smtp_host: str = setting("SMTP_HOST", "", help="SMTP server for outgoing mail; empty: mail is logged, not sent")
    smtp_port: int = setting("SMTP_PORT", 25, help="SMTP server port", min=1, max=65535)
    mail_from: str = setting("MAIL_FROM", "WagerBabe <no-reply@wagerbabe.local>", help="From address of mail")
    agent_job_interval: float = setting(
        "AGENT_JOB_INTERVAL", 60.0, help="Seconds between runs of the weekly-close and reminder jobs", min=0.05,
        max=3600,
    )
    agent_dashboard_ttl: float = setting(
        "AGENT_DASHBOARD_TTL", 10.0, help="Seconds an agent dashboard is cached in Redis (0: never)", min=0, max=600
    )
    cache_ttl_live: float = setting("RESTAPI_CACHE_TTL_LIVE", 5.0, help="Seconds a cached read of live odds lives",
                                    min=0.01, max=3600)
    cache_ttl_upcoming: float = setting("RESTAPI_CACHE_TTL_UPCOMING", 60.0,
                                        help="Seconds a cached read of upcoming odds lives", min=0.01, max=86400)
    cache_ttl_scheduled: float = setting("RESTAPI_CACHE_TTL_SCHEDULED", 300.0,
                                         help="Seconds a cached read of scheduled (or finished) games lives",
                                         min=0.01, max=86400)
    cache_ttl_catalog: float = setting("RESTAPI_CACHE_TTL_CATALOG", 10.0,
                                       help="Seconds a cached sports/leagues/sidebar read lives", min=0.01, max=3600)
    access_ttl: int = setting("AUTH_ACCESS_TTL", 3600, help="Seconds an access JWT lives", min=60, max=3600)
    refresh_ttl: int = setting(
        "AUTH_REFRESH_TTL", 7 * 86400, help="Seconds a refresh token lives (renewed on rotation)",
        min=300, max=7 * 86400,
    )
    refresh_reuse_grace: float = setting(
        "AUTH_REFRESH_REUSE_GRACE", 30.0, min=0, max=300,
        help="Seconds in which a spent refresh token presented again is a retry (new tokens), not theft (0: never)",
    )
    bcrypt_cost: int = setting("AUTH_BCRYPT_COST", 12, help="bcrypt work factor of new password hashes", min=12, max=16)
    login_limit: int = setting("AUTH_LOGIN_LIMIT", 5, help="Failed logins allowed per IP per window", min=1)
    login_window: float = setting("AUTH_LOGIN_WINDOW", 60.0, help="Seconds of the login rate-limit window", min=1)
    account_slow_after: int = setting(
        "AUTH_ACCOUNT_SLOW_AFTER", 5, min=1, max=1000,
        help="Failed logins of one account (any address) before new addresses are slowed down",
    )
    account_max_delay: float = setting(
        "AUTH_ACCOUNT_MAX_DELAY", 60.0, min=1, max=3600,
        help="Longest wait (seconds) a slowed-down account imposes between attempts from new addresses",
    )
    account_pair_limit: int = setting(
        "AUTH_ACCOUNT_PAIR_LIMIT", 10, min=1, max=1000,
        help="Failed logins of one account from one address before that pair is blocked for the window",
    )
    account_window: float = setting(
        "AUTH_ACCOUNT_WINDOW", 900.0, min=60, max=86400,
        help="Seconds failed logins of an account are remembered (in PostgreSQL)",
    )
    known_address_days: int = setting(
        "AUTH_KNOWN_ADDRESS_DAYS", 30, min=1, max=365,
        help="Days an address that logged an account in stays exempt from that account's slow-down",
    )
    signup_limit: int = setting("AUTH_SIGNUP_LIMIT", 10, help="Signups allowed per IP per login window", min=1)
    api_limit: int = setting("API_RATE_LIMIT", 100, help="Authenticated requests allowed per user per window", min=1)
    api_window: float = setting("API_RATE_WINDOW", 60.0, help="Seconds of the API rate-limit window", min=1)
    reset_ttl: int = setting("AUTH_RESET_TTL", 1800, help="Seconds a password reset link stays valid", min=60, max=1800)
    push_ticket_ttl: int = setting("AUTH_PUSH_TICKET_TTL", 30, help="Seconds a push ticket stays valid", min=5, max=300)
    me_cache_ttl: int = setting("AUTH_ME_CACHE_TTL", 30, help="Seconds auth/me answers from the Redis cache", min=0)
    cors_origins: tuple[str, ...] = setting(
        "CORS_ORIGINS", (), help="Comma-separated origins allowed to call the API from a browser"
    )
    trusted_proxies: tuple[str, ...] = setting(
        "TRUSTED_PROXIES", (), help="Comma-separated proxy IPs whose X-Forwarded-For names the client (rate limits)"
    )
    cors_max_age: int = setting("CORS_MAX_AGE", 600, help="Seconds a browser may cache a CORS preflight", min=0)
    smtp_starttls: bool = setting("SMTP_STARTTLS", False, help="Upgrade the SMTP connection with STARTTLS")
    smtp_username: str = setting("SMTP_USERNAME", "", help="SMTP login; empty: no authentication")
    smtp_password: str = setting("SMTP_PASSWORD", "", help="SMTP password")
    betting_books: tuple[str, ...] = setting(
        "BETTING_BOOKS", (), help="Books bets are taken at, in priority order (a selection without a book gets "
                                  "the first that quotes it); empty: any book, best price when none is named"
    )
    betting_min_stake: int = setting(
        "BETTING_MIN_STAKE_CENTS", 100, help="Smallest stake in cents (a player's own minimum wins)", min=1
    )
    betting_max_stake: int = setting(
        "BETTING_MAX_STAKE_CENTS", 1_000_000, help="Largest stake of one bet in cents (house limit)", min=1,
        max=10**12,
    )
    betting_max_payout: int = setting(
        "BETTING_MAX_PAYOUT_CENTS", 10_000_000, help="Largest total return of one bet in cents", min=1, max=10**14
    )
    betting_max_legs: int = setting("BETTING_MAX_PARLAY_LEGS", 12, help="Most legs of a parlay", min=2, max=25)
    betting_slip_ttl: int = setting(
        "BETTING_SLIP_TTL", 86400, help="Seconds a betting slip lives in Redis after its last change", min=60
    )
    betting_slip_max: int = setting("BETTING_SLIP_MAX", 25, help="Most selections on one slip", min=1, max=100)
    betting_page_max: int = setting("BETTING_PAGE_MAX", 100, help="Most bets on one history page", min=1, max=1000)
    grader_batch: int = setting(
        "BETTING_GRADER_BATCH", 50, help="Results the grader reads per XREADGROUP", min=1, max=1000
    )
    grader_block_ms: int = setting(
        "BETTING_GRADER_BLOCK_MS", 2000, help="Milliseconds XREADGROUP blocks waiting for results", min=1, max=60000
    )
    grader_claim_idle: float = setting(
        "BETTING_GRADER_CLAIM_IDLE", 60.0, min=1,
        help="Seconds before another grader claims a result left unacknowledged",
    )
    grader_sweep: float = setting(
        "BETTING_GRADER_SWEEP", 60.0, help="Seconds between sweeps grading open legs of events already final", min=1
    )
    ops_metrics_interval: float = setting(
        "OPS_METRICS_INTERVAL", 15.0, min=0.05, max=300,
        help="Seconds between the jobs process's reads of grader lag, overdue weekly closes and open risk",
    )
    switch_poll: float = setting(
        "RESTAPI_SWITCH_POLL", 1.0, min=0.05, max=1.0,
        help="Seconds between checks of the kill switches in PostgreSQL (Redis pub/sub also wakes each process)",
    )
    void_after_hours: float = setting(
        "BETTING_VOID_AFTER_HOURS", 48.0, min=1, max=24 * 30,
        help="House rule: legs of a game with no result this many hours after its start are void",
    )
    header_timeout: float = setting(
        "RESTAPI_HEADER_TIMEOUT", 10.0, min=0.01, max=10,
        help="Seconds a connection has to send its request headers (else 408, close); also the keep-alive idle time",
    )
    body_timeout: float = setting(
        "RESTAPI_BODY_TIMEOUT", 10.0, help="Seconds a request body has to arrive (else 408, close)", min=0.01, max=10
    )
    max_conns_per_ip: int = setting(
        "RESTAPI_MAX_CONNS_PER_IP", 100, min=0,
        help="Connections one client address may hold (above: 429, close; 0: no cap); TRUSTED_PROXIES are exempt",
    )
    hsts_max_age: int = setting(
        "RESTAPI_HSTS_MAX_AGE", 0, min=0, max=2 * 365 * 86400,
        help="Strict-Transport-Security max-age on answers over HTTPS (TLS here or X-Forwarded-Proto from a "
             "trusted proxy); 0: not sent. Set it (e.g. 31536000) once the site is HTTPS-only",
    )

    def conn_limits(self) -> ConnLimits:
        """The slow-client limits of this process (``shared.connguard``)."""
        return ConnLimits(self.header_timeout, self.body_timeout, self.max_conns_per_ip, self.trusted_proxies)
