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
