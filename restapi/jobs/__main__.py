"""``python -m restapi.jobs``: run the background jobs, with health and metrics on JOBS_PORT."""

from __future__ import annotations

import argparse
import asyncio

from restapi.config import RestSettings
from restapi.jobs import runner
from shared import logging as jlog
from shared.config import ConfigError, exit_on_config_error, load, require_urls
from shared.service import run_daemon


def main() -> None:
    argparse.ArgumentParser(prog="python -m restapi.jobs", description=__doc__).parse_args()
    try:
        settings = load(RestSettings)
        require_urls(settings)
    except ConfigError as exc:
        exit_on_config_error(exc)
    jlog.configure("jobs", settings.log_level)

    async def main_(stop: asyncio.Event) -> None:
        await runner.run(settings, stop)

    run_daemon(main_)


if __name__ == "__main__":
    main()
