"""Small helpers the tests share (waiting with a deadline, capturing JSON log lines)."""

from __future__ import annotations

import asyncio
import email
import io
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from email.message import Message
from typing import Any

import orjson
from aiohttp import web
from aiosmtpd.handlers import Message as MessageHandler

from shared.connguard import ConnLimits, GuardedRunner
from shared.logging import JsonFormatter
from shared.service import start_server
from shared.web import bound_port
from tests.conftest import TIMEOUT_FACTOR


def scaled(seconds: float) -> float:
    """``seconds`` stretched by the suite's timeout factor: for every deadline a test sets (never a
    measurement), so a loaded machine makes tests slower, not red."""
    return seconds * TIMEOUT_FACTOR


class Deadline:
    """A scaled deadline for a hand-written wait loop: ``check`` fails the test once it has passed."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + scaled(seconds)

    def check(self, what: Callable[[], str] | str) -> None:
        if time.monotonic() > self.at:
            raise AssertionError(f"timed out: {what() if callable(what) else what}")


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


class Inbox(MessageHandler):
    """An aiosmtpd handler that keeps every message it receives (the ``smtp`` fixture's mailbox)."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[Message] = []
        self.lock = threading.Lock()

    def handle_message(self, message: Message) -> None:
        with self.lock:
            self.messages.append(email.message_from_bytes(message.as_bytes()))


async def slow_request(port: int, first: bytes, trickle: bytes, every: float, timeout: float) -> tuple[bytes, bool]:
    """Open a connection, send ``first``, then ``trickle`` every ``every`` s (a slow client) until the server
    answers and closes; returns (everything read, closed by the server within ``timeout`` scaled seconds)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def dribble() -> None:
        try:
            writer.write(first)
            while True:
                await writer.drain()
                await asyncio.sleep(every)  # the slow client's pace, not a wait for the server
                writer.write(trickle)
        except (ConnectionError, RuntimeError):
            return

    task = asyncio.create_task(dribble())
    data, closed = b"", False
    try:
        async with asyncio.timeout(timeout * TIMEOUT_FACTOR):
            while chunk := await reader.read(65536):
                data += chunk
            closed = True
    except (TimeoutError, ConnectionError):
        closed = False
    finally:
        task.cancel()
        writer.close()
    return data, closed


Serve = Callable[..., Awaitable[int]]  # (app, limits, runner_cls=GuardedRunner) -> port


@asynccontextmanager
async def served() -> AsyncIterator[Serve]:
    """``serve(app, limits)`` starts ``app`` as ``python -m <service>`` does (``shared.service.start_server``
    with its slow-client limits) on a free port and returns the port; every server stops on exit."""
    runners = []

    async def serve(app: web.Application, limits: ConnLimits,
                    runner_cls: type[GuardedRunner] = GuardedRunner) -> int:
        runner = await start_server(app, "127.0.0.1", 0, limits, runner_cls=runner_cls)
        runners.append(runner)
        return bound_port(runner)

    try:
        yield serve
    finally:
        for runner in runners:
            await runner.cleanup()
