"""``python -m pushd``: serve a WebSocket push node (settings from the environment; see README)."""

from __future__ import annotations

import argparse

import uvloop
from aiohttp import web

from pushd.app import create_app
from pushd.config import PushSettings
from shared import logging as jlog
from shared.config import ConfigError, exit_on_config_error, load


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
    web.run_app(create_app(settings), host=settings.host, port=settings.port, reuse_port=settings.reuse_port,
                backlog=2048, shutdown_timeout=settings.drain_window + 5, access_log=None, print=None,
                loop=uvloop.new_event_loop())


if __name__ == "__main__":
    main()
