"""``./dev up``: the whole system on one machine.

Starts embedded PostgreSQL and Redis (unless ``DATABASE_URL`` / ``REDIS_URL`` are set), migrates,
seeds the demo book, makes a signing key if there is none, runs every Procfile process under
``shared.supervise`` (a crashed one is restarted with back-off, and the console says so), waits
until each of this run's own processes answers /readyz and prints the URLs. A port that another
program holds stops start-up before anything starts, naming the port and its variable. Ctrl-C (or
SIGTERM) stops the processes, then the servers, and leaves nothing running.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from devtools.devservers import EmbeddedPostgres, EmbeddedRedis, free_port
from shared import migrate
from shared.supervise import PortInUse, Supervisor, check_ports, read_procfile
from shared.tokens import KeyRing

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"


def _say(msg: str) -> None:
    print(f"[dev] {msg}", flush=True)


def answers_200(url: str) -> bool:
    """Does a GET of ``url`` answer 200 within a second?"""
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def main() -> int:
    env = dict(os.environ)
    env.setdefault("AUTH_KEYS_DIR", str(DATA / "keys"))
    # The Procfile says `python`: make that the interpreter running this (the project's venv).
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.setdefault("PYTHONUNBUFFERED", "1")
    # The web pages connect to pushd: point them at the port this run gives it.
    env.setdefault("RESTAPI_PUSH_URL", f"ws://{env.get('PUSHD_HOST', '127.0.0.1')}:{env.get('PUSHD_PORT', '8081')}/ws")
    # Mailed links and cookie logins accept only configured origins: for development, this machine's.
    rest_port = env.get("RESTAPI_PORT", "8080")
    env.setdefault("RESTAPI_PUBLIC_URL", f"http://{env.get('RESTAPI_HOST', '127.0.0.1')}:{rest_port}")
    env.setdefault("RESTAPI_PUBLIC_ORIGINS", f"http://localhost:{rest_port}")
    pg = redis = None
    sup: Supervisor | None = None
    mailsink: subprocess.Popen[bytes] | None = None
    procfile = read_procfile(ROOT / "Procfile")
    try:
        check_ports(env, [name for name, _cmd in procfile])
    except PortInUse as exc:
        _say(f"cannot start: {exc}")
        return 1

    def on_signal(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        if not env.get("DATABASE_URL"):
            pg = EmbeddedPostgres(DATA / "pg", port=int(env.get("DEV_PG_PORT", "0")) or None)
            env["DATABASE_URL"] = pg.start()
            _say(f"embedded PostgreSQL at {env['DATABASE_URL']} (pid {pg.pid})")
        if not env.get("REDIS_URL"):
            redis = EmbeddedRedis(DATA / "redis", port=int(env.get("DEV_REDIS_PORT", "0")) or None, persistent=True)
            env["REDIS_URL"] = redis.start()
            _say(f"embedded Redis at {env['REDIS_URL']} (pid {redis.pid})")
        if not env.get("SMTP_HOST"):
            # A local SMTP sink that prints each message (password resets, reminders) to this console.
            port = free_port()
            mailsink = subprocess.Popen(
                [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c",
                 "aiosmtpd.handlers.Debugging", "stdout"], cwd=ROOT)
            env["SMTP_HOST"], env["SMTP_PORT"] = "127.0.0.1", str(port)
            _say(f"mail sink (prints mail here) at smtp://127.0.0.1:{port}")
        applied = asyncio.run(migrate.migrate(env.get("DATABASE_DIRECT_URL") or env["DATABASE_URL"]))
        _say(f"migrations applied: {len(applied)}")
        KeyRing.load(Path(env["AUTH_KEYS_DIR"]), create=True)
        subprocess.run([sys.executable, "-m", "restapi.seed"], env=env, check=True, cwd=ROOT)

        sup = Supervisor(procfile, env, ROOT, say=_say)
        sup.start()
        rest = f"http://{env.get('RESTAPI_HOST', '127.0.0.1')}:{env.get('RESTAPI_PORT', '8080')}"
        push = f"{env.get('PUSHD_HOST', '127.0.0.1')}:{env.get('PUSHD_PORT', '8081')}"
        ingest = f"http://{env.get('INGEST_HOST', '127.0.0.1')}:{env.get('INGEST_PORT', '9101')}"
        jobs = f"http://{env.get('JOBS_HOST', '127.0.0.1')}:{env.get('JOBS_PORT', '9102')}"
        checks = {"restapi": rest, "pushd": f"http://{push}", "ingest": ingest, "jobs": jobs}
        # The ports were free before the processes started, so what answers is this run's own
        # process; it must also still be the first one started (a crash during start-up is a failure).
        first = {name: sup.pid(name) for name in checks}
        deadline = time.monotonic() + 60
        pending = dict(checks)
        while pending and time.monotonic() < deadline:
            dead = [name for name in checks if sup.pid(name) != first[name]]
            if dead:
                sup.poll()
                _say(f"{', '.join(dead)} exited during start-up; see the log above")
                return 1
            pending = {k: v for k, v in pending.items() if not answers_200(f"{v}/readyz")}
            time.sleep(0.3)
        if pending:
            _say(f"not ready after 60 s: {', '.join(pending)}")
            return 1
        _say("all processes ready")
        print(
            "\n"
            f"  Web / REST API   {rest}/\n"
            f"  OpenAPI docs     {rest}/docs\n"
            f"  WebSocket        ws://{push}/ws\n"
            f"  Metrics          {rest}/metrics  ws: http://{push}/metrics  ingest: {ingest}/metrics  "
            f"jobs: {jobs}/metrics\n"
            "  Demo logins      player01 / player-pass-123 · agent1 / agent-pass-123 · admin / admin-pass-123\n"
            "  Ctrl-C stops everything.\n",
            flush=True,
        )
        while True:  # until Ctrl-C or SIGTERM: restart whatever crashes
            sup.poll()
            time.sleep(0.5)
    except KeyboardInterrupt:
        _say("stopping")
        return 0
    finally:
        if sup is not None:
            sup.stop()
        if mailsink is not None:
            mailsink.terminate()
            mailsink.wait(5)
        if redis is not None:
            redis.stop()
        if pg is not None:
            pg.stop()
        _say("stopped")


if __name__ == "__main__":
    sys.exit(main())
