"""``./dev up --ha`` on free ports: a bet and an odds frame through HAProxy, a pushd node lost, a clean stop."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from devtools.devrun import answers_200
from devtools.devservers import free_port, pid_alive
from devtools.ha import HAPROXY_CFG, ha_procfile, haproxy_path
from shared.supervise import read_procfile
from tests.conftest import ROOT
from tests.helpers import Deadline, scaled, wait_for

READY_LINE = "Ctrl-C stops everything."


@dataclass
class Run:
    """The runner process, every line it printed so far, and the proxy's address."""

    proc: subprocess.Popen[str]
    port: int
    folder: Path
    lines: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pids(self) -> dict[str, int]:
        """``name: pid`` of every server and process the runner said it started."""
        out: dict[str, int] = {}
        for line in list(self.lines):
            m = re.match(r"\[dev\] (?:started )?(\w[\w ]*?)(?: at \S+)? \(pid (\d+)", line)
            if m:
                out[m.group(1)] = int(m.group(2))
        return out

    def url_after(self, label: str) -> str:
        """The first URL printed after ``label`` in the banner."""
        line = next(x for x in self.lines if x.strip().startswith(label))
        found = re.search(r"(?:https?|wss?)://\S+", line)
        assert found, line
        return found.group(0)


@pytest.fixture
def ha_run(data_root: Path) -> Iterator[Run]:
    """``python -m devtools.devrun --ha`` with its data under the session folder, ready; stopped afterwards."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "RESTAPI_", "PUSHD_"))}
    folder = data_root / f"ha-{uuid.uuid4().hex[:8]}"
    env.update(DEV_DATA_DIR=str(folder), DEV_HA_PORT=str(port),
               LOG_LEVEL="WARNING")
    proc = subprocess.Popen([sys.executable, "-m", "devtools.devrun", "--ha"], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    run = Run(proc, port, folder)
    assert proc.stdout is not None
    reader = threading.Thread(target=lambda: run.lines.extend(iter(proc.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        deadline = Deadline(240)
        while not any(READY_LINE in line for line in run.lines):
            assert proc.poll() is None, "the runner exited:\n" + "".join(run.lines[-60:])
            deadline.check(lambda: "not ready:\n" + "".join(run.lines[-60:]))
            time.sleep(0.2)
        yield run
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(scaled(90))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        reader.join(10)
        if proc.stdout is not None:
            proc.stdout.close()


async def login(session: aiohttp.ClientSession, base: str) -> dict[str, str]:
    resp = await session.post(f"{base}/api/v1/auth/login", json={"login": "player01", "password": "player-pass-123"})
    assert resp.status == 200, await resp.text()
    return {"Authorization": f"Bearer {(await resp.json())['access_token']}"}


async def place_a_straight_bet(session: aiohttp.ClientSession, base: str, auth: dict[str, str]) -> dict[str, Any]:
    """A $10 straight bet on the first priced pre-match line (again on fresh odds if the price moved)."""
    events: list[dict[str, Any]] = []

    async def priced() -> bool:  # ingest's first poll may still be on its way into PostgreSQL
        odds = await (await session.get(f"{base}/api/v1/betting/odds", headers=auth)).json()
        events[:] = [e for e in odds["events"] if e["status"] != "live" and e["bookmakers"]]
        return bool(events)

    for attempt in range(5):
        await wait_for(priced, 60, "a priced pre-match event")
        event = events[0]
        book = event["bookmakers"][0]
        outcome = next(m for m in book["markets"] if m["key"] == "h2h")["outcomes"][0]
        body = {"type": "straight", "stake_cents": 1000, "selections": [
            {"event_id": event["id"], "market": "h2h", "outcome": outcome["name"], "point": outcome["point"],
             "price": outcome["price"], "book": book["key"]}]}
        key = {"Idempotency-Key": f"ha-bet-{attempt}"}
        resp = await session.post(f"{base}/api/v1/betting/bets", json=body, headers={**auth, **key})
        if resp.status == 409:  # the simulator moved the price meanwhile
            continue
        assert resp.status == 201, await resp.text()
        bet: dict[str, Any] = await resp.json()
        again = await session.post(f"{base}/api/v1/betting/bets", json=body, headers={**auth, **key})
        assert again.status == 200 and (await again.json())["id"] == bet["id"]  # replayed, not placed twice
        return bet
    raise AssertionError("the price moved five times in a row")


async def hello(session: aiohttp.ClientSession, ws_url: str, auth: dict[str, str]) -> tuple[Any, str]:
    """A WebSocket through the proxy, said hello with the access token; returns it and its node's id."""
    ws = await session.ws_connect(ws_url)
    await ws.send_json({"op": "hello", "token": auth["Authorization"].removeprefix("Bearer ")})
    welcome = await ws.receive_json(timeout=scaled(10))
    assert welcome["op"] == "welcome", welcome
    return ws, str(welcome["node"])


def leftovers(folder: Path) -> list[str]:
    """Command lines of processes still running on ``folder`` (servers started with their data there)."""
    out = []
    for proc in Path("/proc").iterdir():
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(folder) in cmd and pid_alive(int(proc.name)):
            out.append(cmd)
    return out


async def test_ha_topology_takes_a_bet_streams_odds_survives_a_pushd_node_and_stops_clean(ha_run: Run) -> None:
    base, ws_url = ha_run.base, f"ws://127.0.0.1:{ha_run.port}/ws"
    assert ha_run.url_after("WebSocket") == ws_url
    pids = ha_run.pids()
    assert {"restapi1", "restapi2", "pushd1", "pushd2", "ingest", "jobs", "backup", "HAProxy",
            "PostgreSQL primary", "PostgreSQL hot standby"} <= set(pids), pids
    async with aiohttp.ClientSession() as session:
        auth = await login(session, base)
        bet = await place_a_straight_bet(session, base, auth)
        history = await (await session.get(f"{base}/api/v1/betting/bets", headers=auth)).json()
        assert [b["id"] for b in history["bets"]].count(bet["id"]) == 1

        # Odds flow ingest -> Redis (through Sentinel) -> pushd -> HAProxy -> this socket.
        odds = await (await session.get(f"{base}/api/v1/betting/odds", headers=auth)).json()
        topics = sorted({f"sport:{e['league']}" for e in odds["events"]})[:60]
        ws, node = await hello(session, ws_url, auth)
        await ws.send_json({"op": "sub", "id": 1, "topics": topics})
        deadline = Deadline(60)
        while (frame := await ws.receive_json(timeout=scaled(60)))["op"] != "odds":
            deadline.check("an odds frame")
        assert frame["topic"] in topics and frame["changes"]

        # SIGKILL the node holding that socket: it drops, and new sockets land on the other node at once
        # (HAProxy retries a refused connection on the other node before its health check notices).
        os.kill(pids["pushd1" if node == "push-1" else "pushd2"], signal.SIGKILL)
        closed = await ws.receive(timeout=scaled(10))
        assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
        for _ in range(3):
            again, other = await hello(session, ws_url, auth)
            assert other != node
            await again.close()
        await ws.close()

        # The backup job took a base backup and WAL reaches Barman: its readiness (barman check, a few
        # seconds on a busy machine) turns 200.
        backup = ha_run.url_after("Backups").removesuffix("/metrics")

        async def backed_up() -> bool:
            resp = await session.get(f"{backup}/readyz", timeout=aiohttp.ClientTimeout(total=scaled(30)))
            return resp.status == 200

        await wait_for(backed_up, 300, "barman check to pass (a base backup, archived WAL)")

    # SIGTERM stops every process and server it started, the restarted pushd node included.
    ha_run.proc.send_signal(signal.SIGTERM)
    assert ha_run.proc.wait(scaled(90)) == 0
    assert [name for name, pid in ha_run.pids().items() if pid_alive(pid)] == []
    assert leftovers(ha_run.folder) == []
    assert not answers_200(f"{base}/readyz")


def test_the_ha_procfile_runs_two_nodes_of_restapi_and_pushd_each_on_its_port_and_the_backup_job() -> None:
    ports = {"restapi1": 1001, "restapi2": 1002, "pushd1": 2001, "pushd2": 2002}
    procs = dict(ha_procfile(read_procfile(ROOT / "Procfile"), ports))
    assert procs["restapi2"] == "env RESTAPI_PORT=1002 python -m restapi"
    assert procs["pushd1"] == "env PUSHD_PORT=2001 PUSHD_NODE_ID=push-1 python -m pushd"
    assert {"ingest", "jobs", "backup"} <= set(procs) and "restapi" not in procs and "pushd" not in procs


def test_the_deploy_haproxy_config_is_valid_with_retries_and_redispatch() -> None:
    env = {**os.environ, "WB_BIND": f"127.0.0.1:{free_port()}", "WB_REST1": "127.0.0.1:1", "WB_REST2": "127.0.0.1:2",
           "WB_PUSH1": "127.0.0.1:3", "WB_PUSH2": "127.0.0.1:4"}
    done = subprocess.run([haproxy_path(), "-c", "-f", str(HAPROXY_CFG)], env=env, capture_output=True, text=True,
                          timeout=scaled(30))
    assert done.returncode == 0 and "Warnings were found" not in done.stdout + done.stderr, done.stderr
    text = HAPROXY_CFG.read_text()
    assert "retries 3" in text and "option  redispatch 1" in text and "option  httpchk GET /readyz" in text


def test_backups_flag_refuses_an_external_database_it_cannot_configure() -> None:
    env = {**os.environ, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x", "RESTAPI_PORT": "0", "PUSHD_PORT": "0",
           "INGEST_PORT": "0", "JOBS_PORT": "0", "BACKUP_PORT": "0"}
    done = subprocess.run([sys.executable, "-m", "devtools.devrun", "--backups"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=scaled(30))
    assert done.returncode == 1 and "--backups archives the embedded PostgreSQL's WAL" in done.stdout
