"""ingest settings (``INGEST_*`` plus the common ones)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared.config import CommonSettings, setting


@dataclass(frozen=True, slots=True)
class IngestSettings(CommonSettings):
    """Everything ingest reads from the environment."""

    host: str = setting("INGEST_HOST", "127.0.0.1", help="Address of ingest's health/metrics port")
    port: int = setting("INGEST_PORT", 9101, help="Health/metrics port of ingest", min=0, max=65535)
    provider: str = setting("INGEST_PROVIDER", "simulator", help="Odds provider",
                            choices=("simulator", "theoddsapi", "replay"))
    markets: tuple[str, ...] = setting("INGEST_MARKETS", ("h2h", "spreads", "totals"),
                                       help="Markets polled (comma-separated)")
    leagues: tuple[str, ...] = setting("INGEST_LEAGUES", (), help="Leagues polled (comma-separated); empty: all active")
    live_interval: float = setting("INGEST_LIVE_INTERVAL", 30.0, help="Seconds between polls of live games",
                                   min=0.05, max=3600)
    upcoming_interval: float = setting("INGEST_UPCOMING_INTERVAL", 300.0,
                                       help="Seconds between polls of upcoming games", min=0.05, max=86400)
    scheduled_interval: float = setting("INGEST_SCHEDULED_INTERVAL", 1800.0,
                                        help="Seconds between polls of scheduled games (and event discovery)",
                                        min=0.05, max=86400)
    upcoming_hours: float = setting("INGEST_UPCOMING_HOURS", 24.0,
                                    help="A game starting within this many hours is upcoming", min=0.01, max=720)
    window_hours: float = setting("INGEST_WINDOW_HOURS", 72.0,
                                  help="Odds are fetched only for leagues with games starting within this many hours",
                                  min=0.01, max=2160)
    tick: float = setting("INGEST_TICK", 1.0, help="Seconds between scheduler ticks", min=0.01, max=60)
    final_linger: float = setting("INGEST_FINAL_LINGER", 600.0,
                                  help="Seconds a final or cancelled game stays in the snapshot", min=0, max=86400)
    stream_maxlen: int = setting("INGEST_STREAM_MAXLEN", 10_000, help="Approximate length cap of each odds stream",
                                 min=10)
    buffer_max: int = setting("INGEST_BUFFER_MAX", 1000,
                              help="Batches held per sink while Redis or PostgreSQL is down", min=1)
    sidebar_debounce: float = setting("INGEST_SIDEBAR_DEBOUNCE", 2.0,
                                      help="Seconds between sidebar view refreshes", min=0, max=600)
    oddsapi_url: str = setting("INGEST_ODDSAPI_URL", "https://api.the-odds-api.com", help="The Odds API base URL")
    oddsapi_key: str = setting("INGEST_ODDSAPI_KEY", "", help="The Odds API key (secret)")
    oddsapi_regions: str = setting("INGEST_ODDSAPI_REGIONS", "us", help="The Odds API regions parameter")
    oddsapi_daily_budget: int = setting("INGEST_ODDSAPI_DAILY_BUDGET", 500,
                                        help="Credits The Odds API may spend per UTC day", min=0)
    oddsapi_retries: int = setting("INGEST_ODDSAPI_RETRIES", 4, help="Retries on 429/5xx/network errors",
                                   min=0, max=20)
    oddsapi_backoff: float = setting("INGEST_ODDSAPI_BACKOFF", 1.0, help="First back-off delay in seconds",
                                     min=0.001, max=600)
    sim_seed: int = setting("INGEST_SIM_SEED", 42, help="Simulator random seed")
    sim_leagues: int = setting("INGEST_SIM_LEAGUES", 110, help="Leagues the simulator runs", min=5, max=500)
    sim_speed: float = setting("INGEST_SIM_SPEED", 1.0, help="Simulator clock speed (x real time)",
                               min=0.01, max=100_000)
    sim_game_minutes: float = setting("INGEST_SIM_GAME_MINUTES", 30.0,
                                      help="Length of a simulated game in simulated minutes", min=0.1, max=600)
    record_dir: Path | None = setting("INGEST_RECORD_DIR", None,
                                      help="Record provider responses to this folder (empty: off)")
    replay_dir: Path | None = setting("INGEST_REPLAY_DIR", None, help="Folder of recorded responses to replay")
    replay_speed: float = setting("INGEST_REPLAY_SPEED", 1.0, help="Replay speed (x recorded time)",
                                  min=0.01, max=100_000)
    archive_dir: Path = setting("INGEST_ARCHIVE_DIR", Path(".data/archive"),
                                help="Folder of archived odds_history days")
    archive_days: int = setting("INGEST_ARCHIVE_DAYS", 7, help="Days of odds_history kept in PostgreSQL",
                                min=1, max=3650)
    archive_interval: float = setting("INGEST_ARCHIVE_INTERVAL", 3600.0,
                                      help="Seconds between archive and partition-maintenance runs", min=1)
    partitions_ahead: int = setting("INGEST_PARTITIONS_AHEAD", 7, help="Days of odds_history partitions made ahead",
                                    min=1, max=365)
