"""``python -m restapi``: serve the REST API (settings from the environment; see README)."""

from __future__ import annotations

import argparse

from restapi.app import create_app
from restapi.config import RestSettings
from shared import logging as jlog
from shared.config import ConfigError, exit_on_config_error, load, require_urls
from shared.service import serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m restapi", description=__doc__)
    parser.add_argument("--port", type=int, help="override RESTAPI_PORT")
    args = parser.parse_args()
    try:
        settings = load(RestSettings, **({"port": args.port} if args.port is not None else {}))
        require_urls(settings)
    except ConfigError as exc:
        exit_on_config_error(exc)
    jlog.configure("restapi", settings.log_level)
    serve(create_app(settings), settings.host, settings.port, settings.shutdown_timeout, reuse_port=settings.reuse_port,
          limits=settings.conn_limits())


if __name__ == "__main__":
    main()
