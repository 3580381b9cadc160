"""Fixtures of the kill switch tests: the betting book (reused) plus a sub-agent and its player."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from devtools.devrun import answers_200
from devtools.devservers import free_port
from tests.conftest import ROOT, TIMEOUT_FACTOR
from tests.restapi.betting.conftest import Book, book, client, redis, settings, sql  # noqa: F401

SUB_AGENT, SUB_PLAYER = 4, 13


@pytest.fixture
async def tree(book: Book) -> Book:  # noqa: F811
    """The book with agent1's sub-agent (4) and that sub-agent's player (13)."""
    await sql(book.dsn, "INSERT INTO users (id, login, role, agent_id, credit_limit_cents) VALUES "
                        "(4, 'sub1', 'agent', 2, 0), (13, 'p4', 'player', 4, 100000)")
    return book


@pytest.fixture
def start_restapi(base_env: dict[str, str]) -> Iterator[Callable[..., str]]:
    """Start real ``python -m restapi`` processes on free ports; each call returns a base URL."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(**env: str) -> str:
        port = free_port()
        full = {**os.environ, **base_env, "RESTAPI_PORT": str(port), "API_RATE_LIMIT": "100000",
                "LOG_LEVEL": "ERROR", **env}
        proc = subprocess.Popen([sys.executable, "-m", "restapi"], cwd=ROOT, env=full,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20 * TIMEOUT_FACTOR
        while not answers_200(f"{base}/readyz"):  # polling with a deadline
            assert proc.poll() is None, "restapi exited"
            if time.monotonic() > deadline:
                raise AssertionError("restapi did not become ready")
            time.sleep(0.05)
        return base

    yield start
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=15)
