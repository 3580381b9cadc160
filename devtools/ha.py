"""``./dev up --ha``: the production topology on one machine.

PostgreSQL primary (WAL archived to Barman) with a streaming hot standby for reads, PgBouncer in
transaction mode in front of the primary, Redis primary + replica + three Sentinels, two restapi
and two pushd nodes behind HAProxy (``deploy/haproxy-ha.cfg``: one address for the API, the pages
and the WebSocket), ingest (simulated provider unless configured), the jobs process and the backup
job. Every internal port is a free one; the proxy listens on ``DEV_HA_PORT`` (default 8080). Data
lives in ``<data>/ha/``. Ctrl-C or SIGTERM stops the processes, then the servers.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from devtools.devrun import (
    LOGINS,
    ROOT,
    barman_for,
    base_env,
    data_dir,
    prepare_book,
    say,
    serve,
    start_mailsink,
    stop_on_sigterm,
    wait_ready,
)
from devtools.devservers import EmbeddedPostgres, free_port, spawn, stop_child
from devtools.pgbouncer import PgBouncer
from devtools.redisha import RedisHA
from devtools.standby import make_standby
from shared.supervise import PortInUse, Supervisor, check_port, read_procfile

HAPROXY_CFG = ROOT / "deploy" / "haproxy-ha.cfg"
# Procfile processes that run as two nodes behind the proxy, and the variable giving each its port.
NODES = {"restapi": "RESTAPI_PORT", "pushd": "PUSHD_PORT"}


def haproxy_path() -> str:
    """The haproxy binary (Debian package ``haproxy``)."""
    for candidate in ("/usr/sbin/haproxy", "/usr/bin/haproxy"):
        if os.path.exists(candidate):
            return candidate
    raise RuntimeError("no haproxy binary: install Debian's haproxy")


def ha_procfile(procfile: list[tuple[str, str]], ports: dict[str, int]) -> list[tuple[str, str]]:
    """The Procfile with restapi and pushd as two nodes each (``restapi1``…), each on its own port, and
    the backup job; ``ports`` maps each process name to its port."""
    out: list[tuple[str, str]] = []
    for name, cmd in procfile:
        if name in NODES:
            for n in (1, 2):
                node = f"{name}{n}"
                extra = f" PUSHD_NODE_ID=push-{n}" if name == "pushd" else ""
                out.append((node, f"env {NODES[name]}={ports[node]}{extra} {cmd}"))
        else:
            out.append((name, cmd))
    out.append(("backup", "python -m shared.backup run"))
    return out


@dataclass
class HaStack:
    """The servers of the topology (not the service processes), started in order and stopped in reverse."""

    folder: Path
    stops: list[Callable[[], None]] = field(default_factory=list)

    def start(self, env: dict[str, str], proxy_port: int, ports: dict[str, int]) -> None:
        """Start every server and put the URLs the processes need into ``env``."""
        self.folder.mkdir(parents=True, exist_ok=True)
        barman, settings = barman_for(env, self.folder / "backup")
        primary = EmbeddedPostgres(self.folder / "pg", settings=barman.archive_settings(settings.archive_timeout))
        primary.start()
        self.stops.append(primary.stop)
        say(f"PostgreSQL primary at {primary.url} (pid {primary.pid}), WAL archived to {barman.home}")
        env["DATABASE_DIRECT_URL"] = primary.url
        barman.write_config(settings, primary.url)
        standby_dir = self.folder / "standby"
        if (standby_dir / "PG_VERSION").exists():  # a standby from an earlier run follows on from where it was
            standby = EmbeddedPostgres(standby_dir, settings={"hot_standby_feedback": "on"})
            standby.start()
        else:
            standby = make_standby(primary.url, standby_dir)
        self.stops.append(standby.stop)
        env["DATABASE_REPLICA_URL"] = standby.url
        say(f"PostgreSQL hot standby at {standby.url} (pid {standby.pid})")
        bouncer = PgBouncer(self.folder / "pgbouncer", primary.url, pool_size=20)
        bouncer.start()
        self.stops.append(bouncer.stop)
        env["DATABASE_URL"] = bouncer.url_for(primary.url)
        say(f"PgBouncer (transaction mode, 20 server connections) at {env['DATABASE_URL']}")
        redis = RedisHA(self.folder / "redis")
        self.stops.append(redis.stop)
        env["REDIS_URL"] = redis.start()
        say(f"Redis primary :{redis.ports['a']}, replica :{redis.ports['b']}, "
                 f"Sentinels at {env['REDIS_URL']}")
        # HAProxy reads the addresses in deploy/haproxy-ha.cfg from its environment.
        proxy_env = {**env, "WB_BIND": f"127.0.0.1:{proxy_port}",
                     **{f"WB_{label}{n}": f"127.0.0.1:{ports[f'{name}{n}']}"
                        for name, label in (("restapi", "REST"), ("pushd", "PUSH")) for n in (1, 2)}}
        haproxy = spawn([haproxy_path(), "-db", "-f", str(HAPROXY_CFG)], self.folder / "haproxy.log", proxy_port,
                        env=proxy_env)
        self.stops.append(lambda: stop_child(haproxy))
        say(f"HAProxy at http://127.0.0.1:{proxy_port} (pid {haproxy.pid}) on {HAPROXY_CFG.relative_to(ROOT)}")

    def stop(self) -> None:
        """Stop what started, last first; one that fails to stop does not keep the others running."""
        while self.stops:
            stop = self.stops.pop()
            try:
                stop()
            except Exception as exc:  # noqa: BLE001 - say it and go on stopping the rest
                say(f"while stopping: {exc}")


def main() -> int:
    """Start the topology, print its URLs, and keep it running until Ctrl-C or SIGTERM."""
    data = data_dir()
    env = base_env(data)
    proxy_port = int(env.get("DEV_HA_PORT") or 8080)
    ports = {f"{name}{n}": free_port() for name in NODES for n in (1, 2)}
    ports.update(ingest=free_port(), jobs=free_port(), backup=free_port())
    proxy = f"http://127.0.0.1:{proxy_port}"
    env.update({
        "INGEST_PORT": str(ports["ingest"]), "JOBS_PORT": str(ports["jobs"]), "BACKUP_PORT": str(ports["backup"]),
        # Every request arrives from the proxy: the per-client limits read X-Forwarded-For from it.
        "TRUSTED_PROXIES": "127.0.0.1", "PUSHD_TRUSTED_PROXIES": "127.0.0.1",
    })
    env.setdefault("RESTAPI_PUSH_URL", f"ws://127.0.0.1:{proxy_port}/ws")
    env.setdefault("RESTAPI_PUBLIC_URL", proxy)
    env.setdefault("RESTAPI_PUBLIC_ORIGINS", f"http://localhost:{proxy_port}")
    try:  # HAProxy starts after the servers: find a taken proxy port before starting anything
        check_port("127.0.0.1", proxy_port, "DEV_HA_PORT", "HAProxy")
    except PortInUse as exc:
        say(f"cannot start: {exc}")
        return 1
    stack = HaStack(data / "ha")
    sup: Supervisor | None = None
    mailsink: subprocess.Popen[bytes] | None = None
    stop_on_sigterm()
    try:
        stack.start(env, proxy_port, ports)
        mailsink = start_mailsink(env)
        prepare_book({**env, "DATABASE_URL": env["DATABASE_DIRECT_URL"]})
        sup = Supervisor(ha_procfile(read_procfile(ROOT / "Procfile"), ports), env, ROOT, say=say)
        sup.start()
        node = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        # The backup job is up once it serves /healthz; its /readyz (barman check) turns 200 when the
        # first base backup and its WAL are in the catalogue, which takes a while.
        checks = {name: f"{url}/{'healthz' if name == 'backup' else 'readyz'}" for name, url in node.items()}
        if not wait_ready(sup, {**checks, "proxy": f"{proxy}/readyz"}, 120):
            return 1
        print(
            "\n"
            f"  Web / REST API   {proxy}/   (HAProxy: restapi {node['restapi1']}, {node['restapi2']})\n"
            f"  OpenAPI docs     {proxy}/docs\n"
            f"  WebSocket        ws://127.0.0.1:{proxy_port}/ws   (pushd {node['pushd1']}, {node['pushd2']})\n"
            f"  PostgreSQL       {env['DATABASE_URL']} (PgBouncer) · primary {env['DATABASE_DIRECT_URL']} · "
            f"standby {env['DATABASE_REPLICA_URL']}\n"
            f"  Redis            {env['REDIS_URL']}\n"
            f"  Backups          {env['BACKUP_DIR']} · job {node['backup']}/metrics · restore: ./dev restore --to …\n"
            "  Metrics          " + "  ".join(f"{name}: {url}/metrics" for name, url in node.items()
                                              if name != "backup") + "\n"
            f"{LOGINS}",
            flush=True,
        )
        serve(sup)
    except KeyboardInterrupt:
        say("stopping")
        return 0
    finally:
        if sup is not None:
            sup.stop()
        stop_child(mailsink)
        stack.stop()
        say("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
