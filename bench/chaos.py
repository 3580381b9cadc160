"""Chaos benchmark: the whole stack under load while Redis, pushd, restapi, PostgreSQL and ingest fail.

    .venv/bin/python bench/chaos.py [--phase 8] [--bettors 8] [--sockets 12] [--leagues 12]

Starts embedded PostgreSQL and Redis (Redis without persistence: its restart is a data loss),
migrates, loads a small book (bench/bets.py's), and runs ingest (simulator), 2 pushd, 2 restapi and
jobs under ``shared.supervise`` (a killed process is restarted). Bettors place bets with
Idempotency-Keys and retry a failed one with the same key on the other restapi, as a phone would;
WebSocket clients hold sport topics on both pushd nodes and resume with ``since`` after a drop.
Faults, one per phase: Redis kill -9 and restart (empty), a pushd kill -9, a restapi kill -9, a
PostgreSQL immediate stop and start, and ingest paused (SIGSTOP: the odds stop, as in a provider
outage). Reports bets attempted / 201 / lost / doubled, the ledger check, offsets missing or repeated
against XRANGE, the time to a full board after Redis returns, and answers by status per phase.
Writes bench/results/chaos.json. ``--short`` is the suite's version (tests/bench/test_chaos_smoke.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import aiopg
import orjson
import redis.asyncio as aioredis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bets import board_of, make_slip, seed  # noqa: E402
from devtools.devservers import EmbeddedPostgres, EmbeddedRedis, free_port  # noqa: E402
from shared import migrate, pushticket  # noqa: E402
from shared.supervise import Supervisor  # noqa: E402
from shared.tokens import KeyRing, access_claims  # noqa: E402

SIM_LEAGUES = ("americanfootball_nfl", "baseball_mlb", "icehockey_nhl", "soccer_epl", "soccer_spain_la_liga",
               "soccer_germany_bundesliga", "soccer_italy_serie_a", "soccer_usa_mls", "basketball_ncaab",
               "americanfootball_ncaaf", "soccer_uefa_champs_league", "mma_mixed_martial_arts")


class Recorder:
    """Answers by phase, and the bettors' keys with what each finally got."""

    def __init__(self) -> None:
        self.phase = "warm-up"
        self.by_phase: dict[str, dict[str, int]] = {}
        self.keys: dict[tuple[int, str], int | None] = {}  # (user, key) -> bet id of a 201, None if never
        self.attempted = 0

    def count(self, status: str) -> None:
        slot = self.by_phase.setdefault(self.phase, {})
        slot[status] = slot.get(status, 0) + 1


async def bettor(n: int, urls: list[str], tokens: dict[int, str], rec: Recorder, stop: asyncio.Event) -> None:
    """Place bets; retry a failed request with the same Idempotency-Key (on the other node) until it is
    answered for good (201 or a 4xx), as a phone does."""
    rng = random.Random(n)
    board = board_of()
    players = list(tokens)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        while not stop.is_set():
            user, key = rng.choice(players), uuid.uuid4().hex
            body = orjson.dumps(make_slip(rng, board))
            rec.attempted += 1
            rec.keys[(user, key)] = None
            headers = {"Authorization": f"Bearer {tokens[user]}", "Idempotency-Key": key,
                       "Content-Type": "application/json"}
            for attempt in range(60):
                try:
                    async with http.post(urls[(n + attempt) % len(urls)] + "/api/v1/betting/bets", data=body,
                                         headers=headers) as resp:
                        status, payload = str(resp.status), await resp.read()
                except (aiohttp.ClientError, TimeoutError) as exc:
                    status, payload = type(exc).__name__, b""
                rec.count(status)
                if status in ("200", "201"):  # 200: the replay of an earlier success whose answer was lost
                    rec.keys[(user, key)] = int(orjson.loads(payload)["id"])
                    break
                if status.isdigit() and 400 <= int(status) < 500 and status != "429":
                    break
                await asyncio.sleep(min(2.0, 0.05 * 2 ** attempt) * (0.5 + rng.random()))
            await asyncio.sleep(0.05)


class Watcher:
    """One WebSocket client on sport topics: resumes with since after any drop; records what it got."""

    def __init__(self, nodes: list[str], topics: list[str], redis: aioredis.Redis, n: int) -> None:
        self.nodes, self.topics, self.redis, self.n = nodes, topics, redis, n
        self.pos: dict[str, dict[str, str]] = {}  # topic -> {epoch, offset}
        self.got: dict[tuple[str, str], list[str]] = {}  # (topic, epoch) -> offsets since its snapshot
        self.snap_at: dict[tuple[str, str], str] = {}  # (topic, epoch) -> the snapshot's offset
        self.empty_boards = 0
        self.recovering = 0
        self.first_snapshot: dict[str, float] = {}  # epoch -> when this client first had it

    async def run(self, stop: asyncio.Event) -> None:
        attempt = 0
        async with aiohttp.ClientSession() as http:
            while not stop.is_set():
                node = self.nodes[(self.n + attempt) % len(self.nodes)]
                try:
                    ticket = await pushticket.issue(self.redis, user_id=1, role="player", agent_id=None, ttl=60)
                    async with http.ws_connect(node, heartbeat=5) as ws:
                        await ws.send_str(orjson.dumps({"op": "hello", "token": ticket}).decode())
                        since = {t: self.pos[t] for t in self.topics if t in self.pos}
                        await ws.send_str(orjson.dumps({"op": "sub", "id": 1, "topics": self.topics,
                                                        **({"since": since} if since else {})}).decode())
                        attempt = 0
                        async for msg in ws:
                            if stop.is_set():
                                break
                            if msg.type is aiohttp.WSMsgType.TEXT:
                                self.frame(orjson.loads(msg.data))
                except (aiohttp.ClientError, OSError, TimeoutError, aioredis.RedisError):
                    pass
                attempt += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), min(2.0, 0.1 * 2 ** attempt))

    def frame(self, doc: dict[str, Any]) -> None:
        op, topic = doc.get("op"), doc.get("topic", "")
        if op == "snapshot":
            epoch = doc["epoch"]
            if not doc["events"]:
                self.empty_boards += 1
            self.pos[topic] = {"epoch": epoch, "offset": doc["offset"]}
            self.got[(topic, epoch)] = []
            self.snap_at[(topic, epoch)] = doc["offset"]
            self.first_snapshot.setdefault(epoch, time.monotonic())
        elif op == "recovering":
            self.recovering += 1
        elif op == "odds" and topic in self.pos:
            self.pos[topic]["offset"] = doc["offset"]
            self.got.setdefault((topic, self.pos[topic]["epoch"]), []).append(doc["offset"])
        elif op == "subscribed":
            for t, epoch in (doc.get("epochs") or {}).items():
                if t in self.pos and epoch:
                    self.pos[t]["epoch"] = epoch


def _key(offset: str) -> tuple[int, int]:
    ms, _, seq = offset.partition("-")
    return int(ms), int(seq or 0)


async def offsets_check(watchers: list[Watcher], redis: aioredis.Redis) -> dict[str, int]:
    """Against XRANGE of each topic's current life: entries after a client's snapshot it never got, and
    entries it got twice."""
    missing = repeated = checked = 0
    for w in watchers:
        for topic in w.topics:
            sport = topic.partition(":")[2]
            epoch = (await redis.hget(f"snap:{sport}", "_epoch") or b"").decode()
            if (topic, epoch) not in w.snap_at:
                continue
            got = w.got.get((topic, epoch), [])
            last = got[-1] if got else w.snap_at[(topic, epoch)]
            entries = [e.decode() for e, _f in await redis.xrange(f"odds:{sport}", min="(" + w.snap_at[(topic, epoch)],
                                                                  max=last)]
            checked += len(entries)
            missing += len(set(entries) - set(got))
            repeated += len(got) - len(set(got))
    return {"checked": checked, "missing": missing, "repeated": repeated}


async def full_board(redis: aioredis.Redis, leagues: list[str], timeout: float) -> float | None:
    """Seconds until every league has a snapshot with an epoch and events again (None: not within timeout)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            ok = 0
            for lg in leagues:
                snap = await redis.hgetall(f"snap:{lg}")
                ok += bool(snap.get(b"_epoch")) and len(snap) > 2
            if ok == len(leagues):
                return time.monotonic() - start
        except (aioredis.RedisError, OSError):
            pass
        await asyncio.sleep(0.1)
    return None


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    pg = EmbeddedPostgres(tmp / "pg")  # fsync on: an immediate stop must not lose committed bets
    server_url = pg.start()
    rds = EmbeddedRedis(tmp / "redis")
    redis_url = rds.start()
    sup: Supervisor | None = None
    try:
        db = f"wb_chaos_{os.getpid()}"
        async with aiopg.connect(server_url) as conn, conn.cursor() as cur:
            await cur.execute(f"CREATE DATABASE {db}")
        dsn = server_url.rsplit("/", 1)[0] + f"/{db}"
        await migrate.migrate(dsn)
        ids = await seed(dsn, 40)
        ring = KeyRing.load(tmp / "keys", create=True)
        tokens = {i: ring.sign(access_claims(i, "player", None, ttl=7200)) for i in ids}
        leagues = list(SIM_LEAGUES[:args.leagues])
        ports = {name: free_port() for name in ("rest1", "rest2", "push1", "push2", "ingest", "jobs")}
        env = {**os.environ, "DATABASE_URL": dsn, "REDIS_URL": redis_url, "AUTH_KEYS_DIR": str(tmp / "keys"),
               "API_RATE_LIMIT": "100000000", "LOG_LEVEL": "ERROR", "INGEST_LEAGUES": ",".join(leagues),
               "INGEST_PORT": str(ports["ingest"]), "JOBS_PORT": str(ports["jobs"]), "INGEST_SIM_SPEED": "20",
               "BETTING_MAX_STAKE_CENTS": str(10**9), "BETTING_MAX_PAYOUT_CENTS": str(10**12),
               "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
        procs = [("ingest", "python -m ingest"), ("jobs", "python -m restapi.jobs"),
                 ("rest1", f"python -m restapi --port {ports['rest1']}"),
                 ("rest2", f"python -m restapi --port {ports['rest2']}"),
                 ("push1", f"env PUSHD_NODE_ID=push1 python -m pushd --port {ports['push1']}"),
                 ("push2", f"env PUSHD_NODE_ID=push2 python -m pushd --port {ports['push2']}")]
        log: list[str] = []
        sup = Supervisor(procs, env, ROOT, backoff=0.2, backoff_max=2.0, say=log.append)
        sup.start()
        rest = [f"http://127.0.0.1:{ports['rest1']}", f"http://127.0.0.1:{ports['rest2']}"]
        push = [f"http://127.0.0.1:{ports['push1']}", f"http://127.0.0.1:{ports['push2']}"]
        http_checks = [*rest, *push, f"http://127.0.0.1:{ports['ingest']}"]
        r = aioredis.Redis.from_url(redis_url)
        deadline = time.monotonic() + 120
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            pending = list(http_checks)
            while pending and time.monotonic() < deadline:
                sup.poll()
                still = []
                for base in pending:
                    try:
                        async with http.get(base + "/readyz") as resp:
                            if resp.status != 200:
                                still.append(base)
                    except (aiohttp.ClientError, TimeoutError):
                        still.append(base)
                pending = still
                await asyncio.sleep(0.2)
        if pending:
            raise RuntimeError(f"not ready: {pending}")
        if await full_board(r, leagues, 120) is None:
            raise RuntimeError("ingest never filled the board")

        rec = Recorder()
        stop = asyncio.Event()
        topics = [f"sport:{lg}" for lg in leagues]
        watchers = [Watcher([p + "/ws" for p in push], topics[i % len(topics):][:3] or topics[:3], r, i)
                    for i in range(args.sockets)]
        supervise_task = asyncio.create_task(_supervise(sup, stop))
        tasks = [asyncio.create_task(bettor(i, rest, tokens, rec, stop)) for i in range(args.bettors)]
        tasks += [asyncio.create_task(w.run(stop)) for w in watchers]
        phases: list[dict[str, Any]] = []

        async def phase(name: str, inject: Any, heal: Any = None) -> dict[str, Any]:
            rec.phase = name
            started = time.monotonic()
            await asyncio.sleep(args.phase / 4)
            await inject()
            row: dict[str, Any] = {"fault": name}
            await asyncio.sleep(args.phase / 4)
            if heal is not None:
                row.update(await heal())
            await asyncio.sleep(max(0.0, args.phase - (time.monotonic() - started)))
            row["answers"] = rec.by_phase.get(name, {})
            phases.append(row)
            return row

        async def kill(name: str) -> None:
            pid = sup.pid(name) if sup else None
            if pid:
                os.kill(pid, signal.SIGKILL)

        async def redis_kill() -> None:
            assert rds.proc is not None
            rds.proc.kill()
            rds.proc.wait()

        async def redis_back() -> dict[str, Any]:
            await asyncio.to_thread(rds.start)
            back = time.monotonic()
            board = await full_board(r, leagues, 60)
            await asyncio.sleep(2)
            new_epochs = {(await r.hget(f"snap:{lg}", "_epoch") or b"").decode() for lg in leagues}
            waits = [min(w.first_snapshot[e] for e in new_epochs if e in w.first_snapshot) - back
                     for w in watchers if any(e in w.first_snapshot for e in new_epochs)]
            return {"full_board_s": None if board is None else round(board, 2),
                    "clients_snapshot_p100_s": round(max(waits), 2) if waits else None}

        async def pg_stop() -> None:
            await asyncio.to_thread(pg._run, "pg_ctl", "stop", "-D", str(pg.data_dir), "-m", "immediate", "-w")

        async def pg_back() -> dict[str, Any]:
            await asyncio.to_thread(pg.start)
            return {}

        async def ingest_pause() -> None:
            pid = sup.pid("ingest") if sup else None
            if pid:
                os.kill(pid, signal.SIGSTOP)

        async def ingest_resume() -> dict[str, Any]:
            pid = sup.pid("ingest") if sup else None
            if pid:
                os.kill(pid, signal.SIGCONT)
            return {}

        await phase("none (baseline)", _noop)
        await phase("redis kill -9, restart empty", redis_kill, redis_back)
        await phase("pushd kill -9", lambda: kill("push1"))
        await phase("restapi kill -9", lambda: kill("rest1"))
        await phase("postgresql immediate stop/start", pg_stop, pg_back)
        await phase("ingest paused (no odds)", ingest_pause, ingest_resume)
        rec.phase = "drain"
        await asyncio.sleep(args.phase / 2)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        supervise_task.cancel()
        offsets = await offsets_check(watchers, r)
        answered = {k: v for k, v in rec.keys.items() if v is not None}
        async with aiopg.connect(dsn) as conn, conn.cursor() as cur:
            await cur.execute("SELECT id FROM bets")
            in_db = {row[0] for row in await cur.fetchall()}
            await cur.execute("SELECT user_id, key, bet_id FROM bet_requests")
            requests = {(u, k): b for u, k, b in await cur.fetchall()}
        lost = sum(1 for bet in answered.values() if bet not in in_db)
        doubled = sum(1 for key, bet in answered.items() if requests.get(key) not in (None, bet))
        doubled += len(in_db) - len({b for b in requests.values() if b is not None})
        ledger = subprocess.run([sys.executable, "-m", "restapi.ledger", "verify"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=300)
        await r.aclose()
        return {"bets": {"attempted": rec.attempted, "placed": len(answered), "lost": lost, "doubled": doubled,
                         "in_db": len(in_db)},
                "ledger_ok": ledger.returncode == 0, "offsets": offsets, "phases": phases,
                "ws": {"empty_boards": sum(w.empty_boards for w in watchers),
                       "recovering_frames": sum(w.recovering for w in watchers)},
                "restarts": [m for m in log if m.startswith("restarted")]}
    finally:
        if sup is not None:
            sup.stop(grace=10)
        rds.stop()
        pg.stop()


async def _noop() -> None:
    return None


async def _supervise(sup: Supervisor, stop: asyncio.Event) -> None:
    while not stop.is_set():
        sup.poll()
        await asyncio.sleep(0.2)


def table(result: dict[str, Any]) -> str:
    lines = ["fault | full board after Redis (s) | answers by status", "--- | --- | ---"]
    for row in result["phases"]:
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(row["answers"].items()))
        lines.append(f"{row['fault']} | {row.get('full_board_s', '-')} | {answers}")
    b, o = result["bets"], result["offsets"]
    lines.append("")
    lines.append(f"bets attempted {b['attempted']}, placed (201, or 200 on a retry) {b['placed']}, "
                 f"lost {b['lost']}, doubled {b['doubled']}; "
                 f"ledger {'ok' if result['ledger_ok'] else 'BROKEN'}; offsets checked {o['checked']}, "
                 f"missing {o['missing']}, repeated {o['repeated']}; empty boards {result['ws']['empty_boards']}, "
                 f"recovering frames {result['ws']['recovering_frames']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--phase", type=float, default=12.0, help="seconds per fault phase")
    parser.add_argument("--bettors", type=int, default=8)
    parser.add_argument("--sockets", type=int, default=12)
    parser.add_argument("--leagues", type=int, default=8)
    parser.add_argument("--short", action="store_true", help="the test suite's version: short phases")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "chaos.json"))
    args = parser.parse_args()
    if args.short:
        args.phase, args.bettors, args.sockets, args.leagues = 6.0, 3, 4, 4
    (ROOT / ".data").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ROOT / ".data", prefix="chaos-") as tmp:
        os.chmod(tmp, 0o755)
        result = asyncio.run(run(args, Path(tmp)))
    Path(args.out).write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    print(table(result))


if __name__ == "__main__":
    main()
