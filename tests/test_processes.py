"""Each service runs as a real process: --help, readiness, bad settings, and a clean SIGTERM stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from devtools.devrun import answers_200
from devtools.devservers import free_port
from tests.conftest import ROOT, TIMEOUT_FACTOR
from tests.helpers import scaled

SERVICES = {
    "restapi": "RESTAPI_PORT",
    "pushd": "PUSHD_PORT",
    "ingest": "INGEST_PORT",
    "restapi.jobs": "JOBS_PORT",
}


@pytest.mark.parametrize("module", list(SERVICES))
def test_help_exits_zero(module: str) -> None:
    out = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, cwd=ROOT,
                         timeout=scaled(30))
    assert out.returncode == 0 and "usage:" in out.stdout


def test_malformed_setting_stops_start_up_naming_the_variable(base_env: dict[str, str]) -> None:
    env = {**os.environ, **base_env, "RESTAPI_PORT": "http"}
    out = subprocess.run([sys.executable, "-m", "restapi"], capture_output=True, text=True, cwd=ROOT, env=env,
                         timeout=scaled(30))
    assert out.returncode == 2 and "RESTAPI_PORT" in out.stderr and "Traceback" not in out.stderr


def _ready(port: int) -> bool:
    return answers_200(f"http://127.0.0.1:{port}/readyz")


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


def _start(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "restapi"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def test_restapi_processes_share_a_port_with_reuse_port(base_env: dict[str, str]) -> None:
    port = free_port()
    env = {**os.environ, **base_env, "RESTAPI_PORT": str(port), "RESTAPI_REUSE_PORT": "true"}
    procs = [_start(env)]
    try:
        deadline = time.monotonic() + 30 * TIMEOUT_FACTOR
        while not _ready(port):
            assert procs[0].poll() is None, procs[0].stderr.read().decode()[-2000:] if procs[0].stderr else ""
            if time.monotonic() > deadline:
                raise AssertionError("the first process never became ready")
            time.sleep(0.1)
        procs.append(_start(env))  # without SO_REUSEPORT this one could not bind and would exit
        while _listeners(port) < 2:
            assert procs[1].poll() is None, procs[1].stderr.read().decode()[-2000:] if procs[1].stderr else ""
            if time.monotonic() > deadline:
                raise AssertionError("the second process never listened")
            time.sleep(0.1)
        procs[0].send_signal(signal.SIGTERM)
        assert procs[0].wait(10) == 0
        assert _ready(port)  # served by the second process alone now
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(10)


def _listeners(port: int) -> int:
    """How many sockets listen on 127.0.0.1:``port`` (from /proc/net/tcp: state 0A is LISTEN)."""
    hex_port = f"{port:04X}"
    count = 0
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if local.endswith(f":{hex_port}") and state == "0A":
                count += 1
    return count
