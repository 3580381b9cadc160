"""Each service runs as a real process: --help, readiness, bad settings, and a clean SIGTERM stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from shared.devservers import free_port
from tests.conftest import ROOT, TIMEOUT_FACTOR

SERVICES = {
    "restapi": "RESTAPI_PORT",
    "pushd": "PUSHD_PORT",
    "ingest": "INGEST_PORT",
    "restapi.jobs": "JOBS_PORT",
}


@pytest.mark.parametrize("module", list(SERVICES))
def test_help_exits_zero(module: str) -> None:
    out = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, cwd=ROOT,
                         timeout=30)
    assert out.returncode == 0 and "usage:" in out.stdout


def test_malformed_setting_stops_start_up_naming_the_variable(base_env: dict[str, str]) -> None:
    env = {**os.environ, **base_env, "RESTAPI_PORT": "http"}
    out = subprocess.run([sys.executable, "-m", "restapi"], capture_output=True, text=True, cwd=ROOT, env=env,
                         timeout=30)
    assert out.returncode == 2 and "RESTAPI_PORT" in out.stderr and "Traceback" not in out.stderr


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


@pytest.mark.parametrize("module", list(SERVICES))
def test_service_becomes_ready_and_stops_on_sigterm_within_10s(module: str, base_env: dict[str, str]) -> None:
    port = free_port()
    env = {**os.environ, **base_env, SERVICES[module]: str(port)}
    proc = subprocess.Popen([sys.executable, "-m", module], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30 * TIMEOUT_FACTOR
        while not _ready(port):
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:] if proc.stderr else ""
            if time.monotonic() > deadline:
                raise AssertionError("service never became ready")
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        err = proc.stderr.read().decode() if proc.stderr else ""
        assert "Traceback" not in err, err[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
