"""ingest settings (``INGEST_*`` plus the common ones)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.config import CommonSettings, setting


@dataclass(frozen=True, slots=True)
class IngestSettings(CommonSettings):
    """Everything ingest reads from the environment."""

    host: str = setting("INGEST_HOST", "127.0.0.1", help="Address of ingest's health/metrics port")
    port: int = setting("INGEST_PORT", 9101, help="Health/metrics port of ingest", min=0, max=65535)
