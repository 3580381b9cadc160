"""Mixed-user benchmark: players and agents on the whole system (ingest, restapi, pushd, jobs) on one box.

    .venv/bin/python bench/users.py [--sizes 1000,5000,10000] [--seconds 60] [--compress 1]
    .venv/bin/python bench/users.py --smoke        # 20 users, a few seconds (tests/bench/test_users_smoke.py)

Starts a scratch stack on free ports: embedded PostgreSQL and Redis, PgBouncer in transaction mode
in front of PostgreSQL when the ``pgbouncer`` binary is there (``--no-pgbouncer``: direct), ingest
running the simulator at live rates on ``--leagues`` leagues, restapi and pushd (``--rest-procs`` /
``--push-procs`` processes sharing one port each) and the jobs daemon. Accounts are seeded in bulk
with one SQL statement (one agent per 100 players, credit, ``accept_price_changes = any``).

For each size, load-generator processes (bench/userload.py) play the users: a player holds a
WebSocket on 2-3 leagues, loads the sidebar, a league's odds and an event every 20-60 s, edits its
slip on half of those visits, places a straight bet every 2-5 minutes with an Idempotency-Key
(retried with the same key on a timeout or a 5xx) and reads its history; an agent per 100 players
loads its dashboard, customer list and customer report every minute. ``--compress K`` divides every
think time by K (K times the request rate of real people; the report says which K was used).

Reports, per size: p50/p95/p99 and answers by status per endpoint; errors (network errors, 5xx, 429
and other 4xx except the 409 refusals of a bet) and their rate; WebSocket ingest-to-client delay
(the client's clock minus the millisecond part of the frame's ``offset``, the Redis stream entry
id that ingest's XADD got: same machine, same clock); bets/s; PostgreSQL client connections
(pg_stat_activity, sampled every second); CPU cores per process group (/proc); the load average.
The knee is the first size that misses a target (REST p95 < 200 ms, WebSocket p99 < 100 ms,
errors < 0.1 %). At the end every answered bet is checked against the database: one bet per
Idempotency-Key, one ``bet_risk`` ledger entry per bet, and ``restapi.ledger verify``.
Writes bench/results/NAME.json and bench/results/NAME.svg and prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import aiopg
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.users_report import endpoint_table, knee, pct_hist, summarise, svg, table  # noqa: E402
from devtools.devservers import EmbeddedPostgres, EmbeddedRedis, free_port  # noqa: E402
from shared import migrate  # noqa: E402
from shared.tokens import KeyRing  # noqa: E402

RESULTS = ROOT / "bench" / "results"
TICK = os.sysconf("SC_CLK_TCK")
LEAGUES = ("americanfootball_nfl", "basketball_nba", "baseball_mlb", "icehockey_nhl", "soccer_epl",
           "soccer_spain_la_liga", "soccer_germany_bundesliga", "soccer_italy_serie_a", "soccer_usa_mls",
           "basketball_ncaab", "americanfootball_ncaaf", "soccer_uefa_champs_league")
SEED = """
INSERT INTO users (id, login, role, display_name)
  SELECT g, 'agent' || g, 'agent', 'Agent ' || g FROM generate_series(1, %(agents)s) g;
INSERT INTO users (id, login, role, agent_id, display_name, credit_limit_cents)
  SELECT 1000000 + g, 'player' || g, 'player', 1 + (g - 1) / 100, 'Player ' || g, 100000000
    FROM generate_series(1, %(players)s) g;
INSERT INTO user_preferences (user_id, accept_price_changes)
  SELECT id, 'any' FROM users WHERE role = 'player';
SELECT setval('users_id_seq', 1000000 + %(players)s);
ANALYZE users;
"""
HELLO = """
import sys
import uvloop
from aiohttp import web
async def hello(request):
    return web.json_response({"hello": "world"})
app = web.Application()
app.router.add_get("/", hello)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None, loop=uvloop.new_event_loop())
"""
PG_CONNS = """
SELECT count(*), count(*) FILTER (WHERE state = 'active') FROM pg_stat_activity
 WHERE backend_type = 'client backend' AND datname = %(db)s AND pid <> pg_backend_pid()
"""


def proc_cpu_s(pid: int, children: bool = False) -> float:
    """User + system CPU seconds of ``pid`` (with its reaped children's when ``children``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if children else 0)
        return ticks / TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def proc_wait_s(pid: int) -> float:
    """Seconds the threads of ``pid`` spent runnable but waiting for a CPU (/proc/PID/task/*/schedstat)."""
    total = 0
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError, IndexError, ValueError):
                total += int((task / "schedstat").read_text().split()[1])
    return total / 1e9


def child_pids(pid: int) -> list[int]:
    """Live children of ``pid`` (PostgreSQL's backends and workers)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry.name))
    return out


def machine_busy_s() -> float:
    """CPU seconds the whole machine spent busy (every core, everyone's processes) since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICK  # all but idle and iowait


def loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


class Stack:
    """The scratch system under test: PostgreSQL (+ PgBouncer), Redis and the service processes."""

    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args, self.tmp = args, tmp
        self.pg = EmbeddedPostgres(tmp / "pg", fast=True)
        self.redis = EmbeddedRedis(tmp / "redis")
        self.bouncer: Any = None
        self.procs: dict[str, list[subprocess.Popen[bytes]]] = {}
        self.db = f"wb_users_{os.getpid()}"
        self.direct = self.dsn = ""
        self.rest_port = self.push_port = 0

    async def start(self, players: int) -> None:
        server_url = self.pg.start()
        redis_url = self.redis.start()
        async with aiopg.connect(server_url) as conn, conn.cursor() as cur:
            await cur.execute(f"CREATE DATABASE {self.db}")  # a fixed bench name: no input
        self.direct = self.dsn = server_url.rsplit("/", 1)[0] + f"/{self.db}"
        if not self.args.no_pgbouncer and (shutil.which("pgbouncer") or Path("/usr/sbin/pgbouncer").exists()):
            from devtools.pgbouncer import PgBouncer
            self.bouncer = PgBouncer(self.tmp / "pgbouncer", server_url, pool_size=self.args.pg_pool)
            self.bouncer.start()
            self.dsn = self.bouncer.url_for(self.direct)
        await migrate.migrate(self.direct)
        t0 = time.monotonic()
        async with aiopg.connect(self.direct, timeout=600) as conn, conn.cursor() as cur:
            await cur.execute(SEED, {"players": players, "agents": math.ceil(players / 100)})
        self.seed_s = time.monotonic() - t0
        KeyRing.load(self.tmp / "keys", create=True)
        self.rest_port, self.push_port = free_port(), free_port()
        env = {**os.environ, "DATABASE_URL": self.dsn, "DATABASE_DIRECT_URL": self.direct, "REDIS_URL": redis_url,
               "AUTH_KEYS_DIR": str(self.tmp / "keys"), "LOG_LEVEL": "WARNING", "API_RATE_LIMIT": "100000000",
               "RESTAPI_MAX_CONNS_PER_IP": "0", "PUSHD_MAX_CONNS_PER_IP": "0", "PG_POOL_MAX": str(self.args.app_pool),
               "INGEST_LEAGUES": ",".join(LEAGUES[:self.args.leagues]), "INGEST_PORT": str(free_port()),
               "JOBS_PORT": str(free_port()), "INGEST_ARCHIVE_DIR": str(self.tmp / "archive"),
               "RESTAPI_PORT": str(self.rest_port), "RESTAPI_REUSE_PORT": "1",
               "PUSHD_PORT": str(self.push_port), "PUSHD_REUSE_PORT": "1", "PUSHD_HELLO_TIMEOUT": "60",
               # The simulator's clock and ingest's polls at live rates, compressed with the think times.
               "INGEST_SIM_SPEED": str(self.args.compress), "INGEST_LIVE_INTERVAL": str(30 / self.args.compress),
               "INGEST_UPCOMING_INTERVAL": str(300 / self.args.compress),
               "INGEST_SCHEDULED_INTERVAL": str(1800 / self.args.compress)}
        self.env = env
        py = sys.executable

        def spawn(name: str, module: str, extra: dict[str, str] | None = None) -> None:
            with open(self.tmp / f"{name}.log", "ab") as log:  # the child keeps its own copy of the descriptor
                self.procs.setdefault(name, []).append(subprocess.Popen(
                    [py, "-m", module], cwd=ROOT, env={**env, **(extra or {})}, stdout=subprocess.DEVNULL,
                    stderr=log))

        self.hello_port = free_port()
        with open(self.tmp / "hello.log", "ab") as log:
            self.procs["hello"] = [subprocess.Popen([py, "-c", HELLO, str(self.hello_port)], cwd=ROOT,
                                                    stdout=subprocess.DEVNULL, stderr=log)]
        spawn("ingest", "ingest")
        spawn("jobs", "restapi.jobs")
        for _ in range(self.args.rest_procs):
            spawn("restapi", "restapi")
        for i in range(self.args.push_procs):
            spawn("pushd", "pushd", {"PUSHD_NODE_ID": f"users-{i}"})
        await self.ready(env)

    async def ready(self, env: dict[str, str]) -> None:
        """Every service answers /readyz and every league has bettable events through the API."""
        urls = [f"http://127.0.0.1:{self.rest_port}/readyz", f"http://127.0.0.1:{self.push_port}/readyz",
                f"http://127.0.0.1:{env['INGEST_PORT']}/readyz"]
        deadline = time.monotonic() + 180
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            pending = list(urls) + [f"http://127.0.0.1:{self.rest_port}/api/v1/betting/odds?league={lg}"
                                    for lg in LEAGUES[:self.args.leagues]]
            while pending:
                self.check_alive()
                if time.monotonic() > deadline:
                    raise RuntimeError(f"not ready in 180 s: {pending}")
                still = []
                for url in pending:
                    try:
                        async with http.get(url) as resp:
                            body = await resp.read()
                            if resp.status != 200 or ("/odds" in url and not orjson.loads(body)["events"]):
                                still.append(url)
                    except (aiohttp.ClientError, TimeoutError):
                        still.append(url)
                pending = still
                await asyncio.sleep(0.5)
        await asyncio.sleep(1.0)  # every reuse-port process binds; the first one answering is not enough

    def check_alive(self) -> None:
        for name, procs in self.procs.items():
            for p in procs:
                if p.poll() is not None:
                    log = (self.tmp / f"{name}.log").read_text()[-2000:]
                    raise RuntimeError(f"{name} exited with {p.returncode}: {log}")

    def pids(self) -> dict[str, list[int]]:
        """The live processes of each group (PostgreSQL: the postmaster and its backends and workers)."""
        out = {name: [p.pid for p in procs] for name, procs in self.procs.items()}
        pm = self.pg.pid
        out["postgres"] = [pm, *child_pids(pm)] if pm else []
        out["redis"] = [self.redis.pid] if self.redis.pid else []
        if self.bouncer is not None and self.bouncer.pid:
            out["pgbouncer"] = [self.bouncer.pid]
        return out

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far by process group (PostgreSQL's with its exited backends)."""
        pm = self.pg.pid
        return {name: sum(proc_cpu_s(p, children=p == pm) for p in pids) for name, pids in self.pids().items()}

    def waits(self) -> dict[str, float]:
        """Run-queue wait so far by process group: runnable, but the CPU was someone else's."""
        return {name: sum(proc_wait_s(p) for p in pids) for name, pids in self.pids().items()}

    def stop(self) -> None:
        for procs in self.procs.values():
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
        for procs in self.procs.values():
            for p in procs:
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if self.bouncer is not None:
            self.bouncer.stop()
        self.redis.stop()
        self.pg.stop()


async def pg_sampler(dsn: str, db: str, stop: asyncio.Event, out: list[tuple[int, int]]) -> None:
    """(client connections, active ones) of the bench database every second until ``stop``."""
    async with aiopg.connect(dsn) as conn, conn.cursor() as cur:
        while not stop.is_set():
            await cur.execute(PG_CONNS, {"db": db})
            row = await cur.fetchone()
            out.append((int(row[0]), int(row[1])))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)


async def hello_probe(port: int, stop: asyncio.Event, out: list[float]) -> None:
    """The baseline of the same moment: a bare aiohttp hello-world's latency, one GET every 0.2 s."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        while not stop.is_set():
            t0 = time.perf_counter()
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with http.get(f"http://127.0.0.1:{port}/") as resp:
                    await resp.read()
                out.append(time.perf_counter() - t0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.2)


async def run_size(stack: Stack, n: int, args: argparse.Namespace) -> dict[str, Any]:
    """One size: start the load generators, let them run, gather and summarise their stats."""
    agents = math.ceil(n / 100)
    workers = args.workers or max(1, math.ceil(n / args.per_worker))
    c = args.compress
    procs = []
    for w in range(workers):
        cfg = {"rest": f"http://127.0.0.1:{stack.rest_port}", "push": f"http://127.0.0.1:{stack.push_port}/ws",
               "keys": str(stack.tmp / "keys"), "leagues": list(LEAGUES[:args.leagues]),
               "players": [(1_000_000 + g, 1 + (g - 1) // 100) for g in range(1 + w, n + 1, workers)],
               "agents": list(range(1 + w, agents + 1, workers)), "src": f"127.0.0.{2 + w % 200}",
               "think": [20 / c, 60 / c], "bet_every": [120 / c, 300 / c], "agent_every": 60 / c,
               "slip_share": 0.5, "seconds": args.seconds, "request_timeout": args.request_timeout,
               "http_conns": args.http_conns, "connect_concurrency": 100, "ready_timeout": 240}
        procs.append(await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "bench" / "userload.py"), orjson.dumps(cfg).decode(), cwd=ROOT,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=256 * 1024 * 1024))

    async def line(p: asyncio.subprocess.Process, event: str, timeout: float) -> dict[str, Any]:
        assert p.stdout is not None
        while True:
            raw = await asyncio.wait_for(p.stdout.readline(), timeout)
            if not raw:
                raise RuntimeError(f"a load generator exited before {event!r}")
            doc: dict[str, Any] = orjson.loads(raw)
            if doc.get("event") == event:
                return doc

    try:
        t0 = time.monotonic()
        ready = [await line(p, "ready", 600) for p in procs]
        connect_s = time.monotonic() - t0
        stack.check_alive()
        load0, cpu0, wait0, w0, busy0 = loadavg(), stack.cpu(), stack.waits(), time.monotonic(), machine_busy_s()
        gen0 = sum(proc_cpu_s(p.pid) for p in procs)
        genw0 = sum(proc_wait_s(p.pid) for p in procs)
        stop = asyncio.Event()
        samples: list[tuple[int, int]] = []
        sampler = asyncio.create_task(pg_sampler(stack.direct, stack.db, stop, samples))
        hello: list[float] = []
        probe = asyncio.create_task(hello_probe(stack.hello_port, stop, hello))
        for p in procs:
            assert p.stdin is not None
            p.stdin.write(b"go\n")
            await p.stdin.drain()
        await asyncio.sleep(args.seconds)
        cpu1, wait1, w1, busy1 = stack.cpu(), stack.waits(), time.monotonic(), machine_busy_s()
        gen1, genw1 = sum(proc_cpu_s(p.pid) for p in procs), sum(proc_wait_s(p.pid) for p in procs)
        load1 = loadavg()
        stats = [await line(p, "stats", 300 + args.request_timeout * 20) for p in procs]
        stop.set()
        await sampler
        await probe
        stack.check_alive()
    finally:
        for p in procs:
            if p.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    p.kill()
            await p.wait()
    wall = w1 - w0
    cpu = {k: round((cpu1.get(k, 0.0) - v) / wall, 2) for k, v in cpu0.items()}
    cpu["loadgen"] = round((gen1 - gen0) / wall, 2)
    # Seconds waiting for a CPU per second of wall time: how many of the group's threads were runnable but
    # not running, on average (the 2 cores are shared with other work on the machine).
    wait = {k: round((wait1.get(k, 0.0) - v) / wall, 2) for k, v in wait0.items()}
    wait["loadgen"] = round((genw1 - genw0) / wall, 2)
    row = summarise(n, agents, workers, args, stats, sum(r["ready"] for r in ready), connect_s, samples, cpu,
                    load0, load1)
    row["runqueue_wait_per_s"] = wait
    hh: dict[int, int] = {}
    for v in hello:
        hh[int(v * 10_000)] = hh.get(int(v * 10_000), 0) + 1
    row["baseline_hello"] = {"count": len(hello), "p50_ms": pct_hist(hh, 0.5, 0.1), "p95_ms": pct_hist(hh, 0.95, 0.1),
                             "p99_ms": pct_hist(hh, 0.99, 0.1)}
    row["rest_p95_vs_hello_p95"] = round(row["rest"]["p95_ms"] / max(0.1, row["baseline_hello"]["p95_ms"]), 1)
    stack_cores = sum(v for k, v in cpu.items() if k not in ("loadgen", "hello"))
    row["cpu_cores_stack_total"] = round(stack_cores, 2)  # the system under test, without the clients
    # CPU per REST request by group, and the cores the stack (not the load generators) would need for
    # 10,000 real-rate users if its cost per user stayed what it is at this size: what a quiet box would have
    # to give. Only meaningful for a size that kept up with its users (few errors).
    per_s = max(0.1, row["rest"]["per_s"])
    row["cpu_ms_per_request"] = {k: round(v * 1000 / per_s, 2) for k, v in cpu.items()}
    fixed = sum(cpu.get(k, 0.0) for k in ("ingest", "jobs"))  # the same whatever the number of users
    per_user = stack_cores - fixed
    row["projected_stack_cores_10000_users"] = round(fixed + per_user / n * 10_000 / args.compress, 2)
    row["cpu_cores_machine_busy"] = round((busy1 - busy0) / wall, 2)  # the stack's and the neighbours'

    return row


async def ledger_check(stack: Stack, placed: list[tuple[int, str, int]]) -> dict[str, Any]:
    """Every answered bet is in the database once, under its key, with exactly one bet_risk entry."""
    async with aiopg.connect(stack.direct) as conn, conn.cursor() as cur:
        await cur.execute("SELECT id, user_id FROM bets")
        in_db = {bid: uid for bid, uid in await cur.fetchall()}
        await cur.execute("SELECT user_id, key, bet_id FROM bet_requests WHERE bet_id IS NOT NULL")
        requests = {(u, k): b for u, k, b in await cur.fetchall()}
        await cur.execute("SELECT ref_id, count(*) FROM ledger_entries WHERE kind = 'bet_risk' GROUP BY ref_id")
        risk = {str(ref): int(k) for ref, k in await cur.fetchall()}
    answered = {(u, k): b for u, k, b in placed}
    lost = sum(1 for (u, _k), b in answered.items() if in_db.get(b) != u)
    wrong_key = sum(1 for key, b in answered.items() if requests.get(key) != b)
    unreported = len(set(in_db) - set(answered.values()))
    risk_not_once = sum(1 for b in in_db if risk.get(str(b)) != 1)
    verify = subprocess.run([sys.executable, "-m", "restapi.ledger", "verify"], cwd=ROOT, env=stack.env,
                            capture_output=True, text=True, timeout=600)
    return {"answered": len(answered), "in_db": len(in_db), "lost": lost, "wrong_key": wrong_key,
            "in_db_not_answered": unreported, "bet_risk_not_exactly_once": risk_not_once,
            "ledger_verify_ok": verify.returncode == 0,
            "ok": lost == wrong_key == unreported == risk_not_once == 0 and verify.returncode == 0}


def write(args: argparse.Namespace, stack: Stack, runs: list[dict[str, Any]], failed: list[dict[str, Any]],
          ledger: dict[str, Any] | None) -> Path:
    """The JSON (after every size, so a later failure keeps the earlier ones) and the plot."""
    result = {"machine": {"cores": os.cpu_count(), "host": socket.gethostname()}, "args": vars(args),
              "pgbouncer": stack.bouncer is not None, "seed_s": round(stack.seed_s, 2),
              "runs": [{k: v for k, v in r.items() if k != "placed"} for r in runs], "failed": failed,
              "knee": knee(runs, failed), "ledger": ledger}
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{args.name}.json"
    out.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    (RESULTS / f"{args.name}.svg").write_text(svg(runs))
    return out


async def main(args: argparse.Namespace) -> int:
    sizes = [int(x) for x in args.sizes.split(",")]
    data = ROOT / ".data"
    data.mkdir(exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="users-", dir=data))
    os.chmod(tmp, 0o755)
    stack = Stack(args, tmp)
    runs: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    deadline = time.monotonic() + args.budget
    try:
        await stack.start(max(sizes))
        print(f"stack up (PgBouncer: {stack.bouncer is not None}; seeded {max(sizes)} players in "
              f"{stack.seed_s:.1f} s)", file=sys.stderr, flush=True)
        for n in sizes:
            if time.monotonic() > deadline:
                print(f"time budget spent: skipping {n} users", file=sys.stderr)
                continue
            print(f"running {n} users ... (load average {loadavg()})", file=sys.stderr, flush=True)
            try:
                runs.append(await run_size(stack, n, args))
            except (TimeoutError, RuntimeError) as exc:  # a size the box could not carry: say so, go on
                failed.append({"users": n, "error": f"{type(exc).__name__}: {exc}", "loadavg": loadavg()})
                print(f"{n} users failed: {failed[-1]}", file=sys.stderr, flush=True)
            else:
                print(table(runs[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
            write(args, stack, runs, failed, None)
        ledger = await ledger_check(stack, [tuple(b) for r in runs for b in r["placed"]])  # type: ignore[misc]
        if failed:  # load generators killed mid-run never saw some answers: those bets are unreported
            ledger["note"] = "sizes failed; bets of killed load generators count as in_db_not_answered"
    finally:
        stack.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    out = write(args, stack, runs, failed, ledger)
    print(table(runs))
    for r in runs:
        print()
        print(endpoint_table(r))
    print(f"\nknee: {knee(runs, failed)}")
    print(f"ledger: {ledger}")
    print(f"\nwrote {out}")
    return 0 if ledger["ok"] and not failed else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,5000,10000", help="simulated players, comma-separated")
    ap.add_argument("--seconds", type=float, default=60.0, help="measured seconds per size")
    ap.add_argument("--compress", type=float, default=1.0, help="divide every think time by this")
    ap.add_argument("--leagues", type=int, default=12, help="leagues ingest runs (players pick 2-3)")
    ap.add_argument("--rest-procs", type=int, default=2, help="restapi processes sharing the port")
    ap.add_argument("--push-procs", type=int, default=2, help="pushd processes sharing the port")
    ap.add_argument("--per-worker", type=int, default=2500, help="users per load-generator process")
    ap.add_argument("--workers", type=int, default=0, help="load-generator processes (0: users / --per-worker)")
    ap.add_argument("--http-conns", type=int, default=64, help="keep-alive HTTP connections per load generator")
    ap.add_argument("--request-timeout", type=float, default=10.0, help="a client's timeout per request (s)")
    ap.add_argument("--pg-pool", type=int, default=20, help="PgBouncer server connections")
    ap.add_argument("--app-pool", type=int, default=10, help="PG_POOL_MAX of each service process")
    ap.add_argument("--no-pgbouncer", action="store_true", help="services connect to PostgreSQL directly")
    ap.add_argument("--budget", type=float, default=1800, help="seconds after which no new size starts")
    ap.add_argument("--name", default="users", help="results file name under bench/results/")
    ap.add_argument("--smoke", action="store_true", help="20 users, 8 s, think times / 20 (the test suite)")
    args = ap.parse_args(argv)
    if args.smoke:
        args.sizes, args.seconds, args.compress, args.leagues = "20", 8.0, 20.0, 4
        args.rest_procs = args.push_procs = 1
        if args.name == "users":
            args.name = "users_smoke"
    return args


if __name__ == "__main__":
    import uvloop

    sys.exit(uvloop.run(main(parse_args())))
