"""``python -m pushd``: serve a WebSocket push node (settings from the environment; see README)."""

from __future__ import annotations

import argparse

from pushd.app import create_app
from pushd.config import PushSettings
from pushd.front import PushRunner
from shared import logging as jlog
from shared.config import ConfigError, exit_on_config_error, load
from shared.service import serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m pushd", description=__doc__)
    parser.add_argument("--port", type=int, help="override PUSHD_PORT")
    args = parser.parse_args()
    try:
        settings = load(PushSettings, **({"port": args.port} if args.port is not None else {}))
        if not settings.redis_url:
            raise ConfigError("REDIS_URL: required to run pushd (use `./dev up` for an embedded server)")
    except ConfigError as exc:
        exit_on_config_error(exc)
    jlog.configure("pushd", settings.log_level)
    serve(create_app(settings), settings.host, settings.port, settings.drain_window + 5,
          reuse_port=settings.reuse_port, limits=settings.conn_limits(), backlog=2048,
          runner_cls=PushRunner)


if __name__ == "__main__":
    main()
