"""``./dev up``'s process supervisor: runs the Procfile's processes and restarts one that crashes.

A process that exits is started again after a back-off that doubles with each quick crash (from
``backoff`` up to ``backoff_max``; a process that ran ``stable`` seconds starts over from
``backoff``), and every exit and restart is said on the console. The others keep running:
one crashed service no longer takes the whole stack down. ``stop()`` ends them all (SIGTERM to
each process group, SIGKILL after a grace period). Before anything starts, ``check_ports`` makes
sure no other program holds a port this run is about to use.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

# The port each Procfile process listens on: (host variable, port variable, default port).
PORTS = {"restapi": ("RESTAPI_HOST", "RESTAPI_PORT", 8080), "pushd": ("PUSHD_HOST", "PUSHD_PORT", 8081),
         "ingest": ("INGEST_HOST", "INGEST_PORT", 9101), "jobs": ("JOBS_HOST", "JOBS_PORT", 9102),
         "backup": ("BACKUP_HOST", "BACKUP_PORT", 9103)}


class PortInUse(RuntimeError):
    """A port this run needs is held by another program."""


def read_procfile(path: Path) -> list[tuple[str, str]]:
    """``name: command`` lines of a Procfile, in order."""
    out = []
    for line in path.read_text().splitlines():
        name, sep, cmd = line.partition(":")
        if sep and name.strip() and not name.startswith("#"):
            out.append((name.strip(), cmd.strip()))
    return out


def check_port(host: str, port: int, variable: str, name: str) -> None:
    """Raise PortInUse naming ``port`` and its ``variable`` if another program holds it."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            raise PortInUse(f"port {port} ({variable}, {name}) is already in use by another program: "
                            f"stop it, or set {variable} to a free port") from None


def check_ports(env: Mapping[str, str], names: list[str] | None = None) -> None:
    """Raise PortInUse naming the port and its variable if one of the processes' ports is taken."""
    for name in names or list(PORTS):
        host_var, port_var, default = PORTS[name]
        host, port = env.get(host_var, "127.0.0.1"), int(env.get(port_var, str(default)))
        if port != 0:
            check_port(host, port, port_var, name)


@dataclass(slots=True)
class Child:
    """One Procfile process: the running instance (or when the next one starts) and its crash count."""

    name: str
    command: str
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    restart_at: float | None = None
    crashes: int = 0  # quick crashes in a row (the back-off exponent)
    restarts: int = 0
    delays: list[float] = field(default_factory=list)


class Supervisor:
    """Starts every process, restarts crashed ones with back-off, stops them all on request."""

    def __init__(self, procfile: list[tuple[str, str]], env: Mapping[str, str], cwd: Path, *,
                 backoff: float = 1.0, backoff_max: float = 30.0, stable: float = 60.0,
                 say: Callable[[str], None] = print, clock: Callable[[], float] = time.monotonic) -> None:
        self.children = {name: Child(name, cmd) for name, cmd in procfile}
        self.env = dict(env)
        self.cwd = cwd
        self.backoff, self.backoff_max, self.stable = backoff, backoff_max, stable
        self.say = say
        self.clock = clock

    def _spawn(self, child: Child) -> None:
        # Through the shell, like honcho: the Procfile's `python` is found on this run's PATH.
        child.proc = subprocess.Popen(["/bin/sh", "-c", "exec " + child.command], env=self.env, cwd=self.cwd,
                                      start_new_session=True)
        child.started = self.clock()
        child.restart_at = None

    def start(self) -> None:
        for child in self.children.values():
            self._spawn(child)
            self.say(f"started {child.name} (pid {child.proc.pid if child.proc else '?'}): {child.command}")

    def alive(self, name: str) -> bool:
        """Is ``name``'s process running now?"""
        proc = self.children[name].proc
        return proc is not None and proc.poll() is None

    def pid(self, name: str) -> int | None:
        proc = self.children[name].proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def poll(self) -> None:
        """Notice exits (schedule their restart) and start the restarts that are due."""
        now = self.clock()
        for child in self.children.values():
            proc = child.proc
            if proc is not None and proc.poll() is not None:
                ran = now - child.started
                child.crashes = 0 if ran >= self.stable else child.crashes + 1
                delay = min(self.backoff_max, self.backoff * 2 ** max(0, child.crashes - 1))
                child.delays.append(delay)
                child.restart_at = now + delay
                child.proc = None
                self.say(f"{child.name} exited with code {proc.returncode} after {ran:.1f} s; "
                         f"restarting in {delay:.1f} s")
            elif proc is None and child.restart_at is not None and now >= child.restart_at:
                self._spawn(child)
                child.restarts += 1
                self.say(f"restarted {child.name} (pid {child.proc.pid if child.proc else '?'}, "
                         f"restart {child.restarts})")

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM every process group, wait up to ``grace``, then SIGKILL what is left."""
        procs = [c.proc for c in self.children.values() if c.proc is not None]
        for c in self.children.values():
            c.restart_at = None
        for proc in procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.0, deadline - time.monotonic()))
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)
