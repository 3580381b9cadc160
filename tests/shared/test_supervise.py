"""./dev up's supervisor: a crashed process is restarted with back-off and said so, the others keep
running, stop() ends them all; a port another program holds stops start-up naming it."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import pytest

from devtools.devservers import free_port, pid_alive
from shared.supervise import PortInUse, Supervisor, check_ports, read_procfile
from tests.conftest import ROOT, TIMEOUT_FACTOR


def _until(predicate: object, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout * TIMEOUT_FACTOR
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_a_crashed_process_is_restarted_with_back_off_and_the_others_keep_running(tmp_path: Path) -> None:
    said: list[str] = []
    py = sys.executable
    sup = Supervisor([("flaky", f"{py} -c 'import sys; sys.exit(3)'"),
                      ("steady", f"{py} -c 'import time; time.sleep(600)'")],
                     {"PATH": "/usr/bin:/bin"}, tmp_path, backoff=0.05, backoff_max=0.4, stable=600, say=said.append)
    sup.start()
    steady = sup.pid("steady")
    try:
        def restarted_4() -> bool:
            sup.poll()
            return sup.children["flaky"].restarts >= 4 and len(sup.children["flaky"].delays) >= 5

        _until(restarted_4, "four restarts of the crashing process")
        assert sup.children["flaky"].delays[:5] == [0.05, 0.1, 0.2, 0.4, 0.4]  # doubling, capped
        assert sup.pid("steady") == steady  # one crash does not take the others down
        assert any(m.startswith("flaky exited with code 3") and "restarting in 0.1 s" in m for m in said)
        assert any(m.startswith("restarted flaky") for m in said)
    finally:
        sup.stop(grace=5)
    assert steady is not None and not pid_alive(steady)
    sup.poll()
    assert not sup.alive("flaky") and not sup.alive("steady")  # nothing is restarted after stop


def test_a_port_in_use_stops_start_up_naming_the_port_and_its_variable() -> None:
    env = {"RESTAPI_PORT": str(free_port()), "PUSHD_PORT": str(free_port()), "INGEST_PORT": str(free_port()),
           "JOBS_PORT": str(free_port())}
    check_ports(env)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env["PUSHD_PORT"] = str(taken.getsockname()[1])
        with pytest.raises(PortInUse) as err:
            check_ports(env)
    assert env["PUSHD_PORT"] in str(err.value) and "PUSHD_PORT" in str(err.value)


def test_the_procfile_lists_every_service_with_its_port() -> None:
    names = [name for name, _cmd in read_procfile(ROOT / "Procfile")]
    assert names == ["restapi", "pushd", "ingest", "jobs"]
