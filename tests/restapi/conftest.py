"""Fixtures shared by the restapi tests: the real ``python -m restapi`` process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from devtools.devrun import answers_200
from devtools.devservers import free_port
from tests.conftest import ROOT, TIMEOUT_FACTOR
from tests.helpers import Inbox, scaled


@pytest.fixture
def restapi_server(base_env: dict[str, str], smtp: tuple[Inbox, int]) -> Iterator[str]:
    """The real restapi process on a free port; yields its base URL and stops it afterwards."""
    port = free_port()
    env = {**os.environ, **base_env, "RESTAPI_PORT": str(port), "SMTP_PORT": str(smtp[1]),
           "SMTP_HOST": "127.0.0.1", "RESTAPI_PUBLIC_URL": f"http://127.0.0.1:{port}",
           "API_RATE_LIMIT": "100000", "AUTH_LOGIN_LIMIT": "1000",
           "AUTH_SIGNUP_LIMIT": "1000", "LOG_LEVEL": "ERROR"}
    proc = subprocess.Popen([sys.executable, "-m", "restapi"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20 * TIMEOUT_FACTOR
        while not answers_200(f"{base}/readyz"):  # polling with a deadline, not a sleep used as a wait
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:] if proc.stderr else "exited"
            if time.monotonic() > deadline:
                raise AssertionError("restapi did not become ready")
            time.sleep(0.05)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=scaled(15))
        if proc.stderr:
            proc.stderr.close()
