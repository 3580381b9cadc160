"""Helpers of the pushd tests: a test server that serves ``/ws`` as ``python -m pushd`` does."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestServer
from aiohttp.web_runner import BaseRunner

from pushd.front import PushRunner
from pushd.keys import SETTINGS


class PushTestServer(TestServer):
    """aiohttp's ``TestServer`` on ``PushRunner``: WebSocket upgrades go through ``pushd.front``."""

    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        return PushRunner(self.app, self.app[SETTINGS].conn_limits(), **kwargs)
