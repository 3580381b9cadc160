"""Small helpers the tests share (waiting with a deadline, capturing JSON log lines)."""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson

from shared.logging import JsonFormatter
from tests.conftest import TIMEOUT_FACTOR


async def wait_for(predicate: Callable[[], Awaitable[bool] | bool], timeout: float = 5.0,
                   what: str = "condition") -> None:
    """Poll ``predicate`` until it is true, failing after ``timeout`` (scaled) seconds."""
    deadline = time.monotonic() + timeout * TIMEOUT_FACTOR
    while True:
        result = predicate()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@contextmanager
def captured_json_logs(service: str = "test") -> Iterator[list[dict[str, Any]]]:
    """Capture every log record as a parsed JSON line while the block runs."""
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    lines: list[dict[str, Any]] = []
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        lines.extend(orjson.loads(line) for line in buf.getvalue().splitlines() if line.strip())
