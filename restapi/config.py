"""restapi settings (``RESTAPI_*`` plus the common ones)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.config import CommonSettings, setting


@dataclass(frozen=True, slots=True)
class RestSettings(CommonSettings):
    """Everything restapi reads from the environment."""

    host: str = setting("RESTAPI_HOST", "127.0.0.1", help="Address restapi listens on")
    port: int = setting("RESTAPI_PORT", 8080, help="Port restapi listens on (0: any free port)", min=0, max=65535)
    public_url: str = setting("RESTAPI_PUBLIC_URL", "", help="Base URL clients use (links in mails); empty: derived")
    max_body_bytes: int = setting(
        "RESTAPI_MAX_BODY_BYTES", 256 * 1024, help="Largest request body accepted (413 above)", min=1024
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
