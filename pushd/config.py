"""pushd settings (``PUSHD_*`` plus the common ones)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.config import CommonSettings, setting


@dataclass(frozen=True, slots=True)
class PushSettings(CommonSettings):
    """Everything pushd reads from the environment."""

    host: str = setting("PUSHD_HOST", "127.0.0.1", help="Address pushd listens on")
    port: int = setting("PUSHD_PORT", 8081, help="Port pushd listens on (0: any free port)", min=0, max=65535)
    node_id: str = setting("PUSHD_NODE_ID", "", help="This node's id in pushd:nodes; empty: host-pid")
