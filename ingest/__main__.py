"""``python -m ingest``: run the odds ingest daemon, with health and metrics on INGEST_PORT."""

from __future__ import annotations

import argparse
import asyncio

from ingest import daemon
from ingest.config import IngestSettings
from shared import logging as jlog
from shared.config import ConfigError, exit_on_config_error, load, require_urls
from shared.service import run_daemon


def main() -> None:
    argparse.ArgumentParser(prog="python -m ingest", description=__doc__).parse_args()
    try:
        settings = load(IngestSettings)
        require_urls(settings)
        daemon.check_settings(settings)
    except ConfigError as exc:
        exit_on_config_error(exc)
    jlog.configure("ingest", settings.log_level)

    async def main_(stop: asyncio.Event) -> None:
        await daemon.run(settings, stop)

    run_daemon(main_)


if __name__ == "__main__":
    main()
