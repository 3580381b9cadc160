"""Typed application keys of pushd."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from pushd.config import PushSettings
from shared.redis import Redis

if TYPE_CHECKING:
    from pushd.node import Node

SETTINGS: web.AppKey[PushSettings] = web.AppKey("settings", PushSettings)
REDIS: web.AppKey[Redis] = web.AppKey("redis", Redis)
NODE: web.AppKey[Node] = web.AppKey("node")
