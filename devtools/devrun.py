"""``./dev up``: the whole system on one machine.

Starts embedded PostgreSQL and Redis (unless ``DATABASE_URL`` / ``REDIS_URL`` are set), migrates,
seeds the demo book, makes a signing key if there is none, runs every Procfile process under
``shared.supervise`` (a crashed one is restarted with back-off, and the console says so), waits
until each of this run's own processes answers /readyz and prints the URLs. A port that another
program holds stops start-up before anything starts, naming the port and its variable. Ctrl-C (or
SIGTERM) stops the processes, then the servers, and leaves nothing running. ``--ha`` runs the
production topology instead (``devtools.ha``). ``DEV_DATA_DIR`` moves the data folder (default ``.data/``).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from devtools.devservers import EmbeddedPostgres, EmbeddedRedis, free_port, stop_child
from shared import migrate
from shared.backup.barman import Barman
from shared.backup.settings import BackupSettings
from shared.config import load
from shared.supervise import PortInUse, Supervisor, check_ports, read_procfile
from shared.tokens import KeyRing

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"


LOGINS = ("  Demo logins      player01 / player-pass-123 · agent1 / agent-pass-123 · admin / admin-pass-123\n"
          "  Ctrl-C stops everything.\n")


def say(msg: str) -> None:
    print(f"[dev] {msg}", flush=True)


def answers_200(url: str) -> bool:
    """Does a GET of ``url`` answer 200 within a second?"""
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return bool(resp.status == 200)
    except (OSError, http.client.HTTPException):  # not up yet, or something else answers there
        return False


def data_dir() -> Path:
    """Where the embedded servers keep their data: ``DEV_DATA_DIR``, else ``.data/`` in the checkout."""
    return Path(os.environ.get("DEV_DATA_DIR") or DATA).resolve()


def base_env(data: Path) -> dict[str, str]:
    """This process's environment, with the keys folder, the venv's ``python`` and unbuffered output."""
    env = dict(os.environ)
    env.setdefault("AUTH_KEYS_DIR", str(data / "keys"))
    # The Procfile says `python`: make that the interpreter running this (the project's venv).
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def start_mailsink(env: dict[str, str]) -> subprocess.Popen[bytes] | None:
    """Without ``SMTP_HOST``: a local SMTP sink printing each mail here; sets ``SMTP_HOST``/``SMTP_PORT``."""
    if env.get("SMTP_HOST"):
        return None
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c",
         "aiosmtpd.handlers.Debugging", "stdout"], cwd=ROOT)
    env["SMTP_HOST"], env["SMTP_PORT"] = "127.0.0.1", str(port)
    say(f"mail sink (prints mail here) at smtp://127.0.0.1:{port}")
    return proc


def prepare_book(env: dict[str, str]) -> None:
    """Migrate (on the direct URL when there is one), make a signing key if none, seed the demo book."""
    applied = asyncio.run(migrate.migrate(env.get("DATABASE_DIRECT_URL") or env["DATABASE_URL"]))
    say(f"migrations applied: {len(applied)}")
    KeyRing.load(Path(env["AUTH_KEYS_DIR"]), create=True)
    subprocess.run([sys.executable, "-m", "restapi.seed"], env=env, check=True, cwd=ROOT)


def barman_for(env: dict[str, str], folder: Path) -> tuple[Barman, BackupSettings]:
    """The Barman catalogue in ``BACKUP_DIR`` (default ``folder``) and the backup settings; sets ``BACKUP_DIR``."""
    settings = load(BackupSettings, {**env, "BACKUP_DIR": env.get("BACKUP_DIR") or str(folder)})
    env["BACKUP_DIR"] = str(settings.backup_dir.resolve())
    return Barman.from_settings(settings), settings


def wait_ready(sup: Supervisor, checks: dict[str, str], timeout: float = 60.0) -> bool:
    """Block until every ``name: url`` answers 200, saying why not when a process dies or time runs out.

    The ports were free before the processes started, so what answers is this run's own process; it
    must also still be the first one started (a crash during start-up is a failure). A name that is
    not one of ``sup``'s processes (a proxy in front of them) is only waited for.
    """
    first = {name: sup.pid(name) for name in checks if name in sup.children}
    deadline = time.monotonic() + timeout
    pending = dict(checks)
    while pending and time.monotonic() < deadline:
        dead = [name for name in first if sup.pid(name) != first[name]]
        if dead:
            sup.poll()
            say(f"{', '.join(dead)} exited during start-up; see the log above")
            return False
        pending = {k: v for k, v in pending.items() if not answers_200(v)}
        time.sleep(0.3)
    if pending:
        say(f"not ready after {timeout:g} s: {', '.join(pending)}")
        return False
    say("all processes ready")
    return True


def serve(sup: Supervisor) -> None:
    """Until Ctrl-C or SIGTERM (both raise KeyboardInterrupt here): restart whatever crashes."""
    while True:
        sup.poll()
        time.sleep(0.5)


def stop_on_sigterm() -> None:
    """SIGTERM stops the run like Ctrl-C does."""

    def on_signal(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./dev up", description=__doc__.split("\n\n")[0])
    parser.add_argument("--ha", action="store_true", help="the production topology on this machine "
                        "(standby, PgBouncer, Sentinel, two nodes of each behind HAProxy, backups)")
    parser.add_argument("--backups", action="store_true", help="archive the embedded PostgreSQL's WAL to Barman "
                        "(BACKUP_DIR, default .data/backup) and run the backup job")
    args = parser.parse_args(argv)
    if args.ha:
        from devtools.ha import main as run_ha  # the HA runner builds on this module

        return run_ha()
    data = data_dir()
    env = base_env(data)
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
    if args.backups:
        if env.get("DATABASE_URL"):
            say("--backups archives the embedded PostgreSQL's WAL: unset DATABASE_URL, or set up archiving "
                 "on yours as docs/operations.md says")
            return 1
        procfile.append(("backup", "python -m shared.backup run"))
    try:
        check_ports(env, [name for name, _cmd in procfile])
    except PortInUse as exc:
        say(f"cannot start: {exc}")
        return 1
    stop_on_sigterm()
    try:
        if not env.get("DATABASE_URL"):
            barman, backup = barman_for(env, data / "backup") if args.backups else (None, None)
            archive = barman.archive_settings(backup.archive_timeout) if barman and backup else None
            pg = EmbeddedPostgres(data / "pg", port=int(env.get("DEV_PG_PORT", "0")) or None, settings=archive)
            env["DATABASE_URL"] = pg.start()
            say(f"embedded PostgreSQL at {env['DATABASE_URL']} (pid {pg.pid})")
            if barman and backup:
                barman.write_config(backup, pg.url)
                say(f"WAL archived to the Barman catalogue in {barman.home}")
        if not env.get("REDIS_URL"):
            redis = EmbeddedRedis(data / "redis", port=int(env.get("DEV_REDIS_PORT", "0")) or None, persistent=True)
            env["REDIS_URL"] = redis.start()
            say(f"embedded Redis at {env['REDIS_URL']} (pid {redis.pid})")
        mailsink = start_mailsink(env)
        prepare_book(env)

        sup = Supervisor(procfile, env, ROOT, say=say)
        sup.start()
        rest = f"http://{env.get('RESTAPI_HOST', '127.0.0.1')}:{env.get('RESTAPI_PORT', '8080')}"
        push = f"{env.get('PUSHD_HOST', '127.0.0.1')}:{env.get('PUSHD_PORT', '8081')}"
        ingest = f"http://{env.get('INGEST_HOST', '127.0.0.1')}:{env.get('INGEST_PORT', '9101')}"
        jobs = f"http://{env.get('JOBS_HOST', '127.0.0.1')}:{env.get('JOBS_PORT', '9102')}"
        checks = {"restapi": rest, "pushd": f"http://{push}", "ingest": ingest, "jobs": jobs}
        urls = {name: f"{url}/readyz" for name, url in checks.items()}
        backup_url = f"http://{env.get('BACKUP_HOST', '127.0.0.1')}:{env.get('BACKUP_PORT', '9103')}"
        if args.backups:  # up once it serves; ready (barman check) after its first base backup
            urls["backup"] = f"{backup_url}/healthz"
        if not wait_ready(sup, urls):
            return 1
        print(
            "\n"
            f"  Web / REST API   {rest}/\n"
            f"  OpenAPI docs     {rest}/docs\n"
            f"  WebSocket        ws://{push}/ws\n"
            f"  Metrics          {rest}/metrics  ws: http://{push}/metrics  ingest: {ingest}/metrics  "
            f"jobs: {jobs}/metrics\n"
            + (f"  Backups          {env['BACKUP_DIR']} · job {backup_url}/metrics · restore: ./dev restore --to …\n"
               if args.backups else "")
            + LOGINS,
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
        if redis is not None:
            redis.stop()
        if pg is not None:
            pg.stop()
        say("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
