"""Bet placement benchmark: bets/s and latency of ``POST betting/bets``, against PostgreSQL's own update rate.

    .venv/bin/python bench/bets.py [--seconds 8] [--concurrency 8,16,32] [--players 200] [--servers 1]
                                   [--driver wrk|python] [--fast]

Starts embedded PostgreSQL and Redis (or uses DATABASE_URL / REDIS_URL), migrates a fresh database,
loads a book (players with credit, 30 events with h2h/spreads/totals at two books) and runs
``--servers`` ``python -m restapi`` processes sharing one loopback port (RESTAPI_REUSE_PORT). It
places realistic slips (60% straights on any market, 40% parlays of 2-4 legs, random players and
stakes, unique Idempotency-Keys) for a fixed time with ``wrk`` (bench/wrk/bets.lua; a C client,
so the load generator takes little of the CPU it measures) or, without wrk, with aiohttp from
this process. In the same run, on the same database, it measures the baselines: an aiopg loop of
autocommitted single-row UPDATEs at the same concurrency, ``pgbench -b simple-update`` when the
pgbench binary is available, and "SQL-only": straight bets as the bare SQL a placement sends, from
pgbench (no HTTP, Python or Redis), which bounds what any application in front of this database
could reach. The machine is shared and noisy, so the headline numbers are
ratios to those baselines. Prints a table and writes ``bench/results/bets.json``. ``--fast``
turns fsync off (both sides equally).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import re
import resource
import shutil
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import percentile, wait_ready  # noqa: E402
from devtools.devservers import EmbeddedPostgres, EmbeddedRedis, free_port, wheel_pg_bin  # noqa: E402
from shared import migrate  # noqa: E402
from shared.tokens import KeyRing, access_claims  # noqa: E402

EVENTS = 30
TEAMS = [f"Team {chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(2 * EVENTS)]
CREDIT = 10**11  # never the limit here: this measures placement, not refusals
WRK_SCRIPT = ROOT / "bench" / "wrk" / "bets.lua"


def catalog() -> list[tuple[str, str, str, str, int, float | None]]:
    """(event, book, market, outcome, price, point) of every price on the board."""
    rows: list[tuple[str, str, str, str, int, float | None]] = []
    for i in range(EVENTS):
        ev, home, away = f"bench{i}", TEAMS[2 * i], TEAMS[2 * i + 1]
        for book, shade in (("housebook", 0), ("otherbook", 5)):
            rows += [(ev, book, "h2h", home, -150 - shade, None), (ev, book, "h2h", away, 130 + shade, None),
                     (ev, book, "spreads", home, -110, -3.5), (ev, book, "spreads", away, -110 - shade, 3.5),
                     (ev, book, "totals", "Over", -105 - shade, 210.5), (ev, book, "totals", "Under", -115, 210.5)]
    return rows


async def seed(dsn: str, players: int) -> list[int]:
    """The book: one agent, ``players`` players with credit, the catalog. Returns the player ids."""
    async with aiopg.connect(dsn) as conn, conn.cursor() as cur:
        await cur.execute("INSERT INTO users (login, role) VALUES ('benchagent', 'agent') RETURNING id")
        (agent,) = await cur.fetchone()
        await cur.execute("INSERT INTO users (login, role, agent_id, credit_limit_cents) "
                          "SELECT 'benchp' || i, 'player', %s, %s FROM generate_series(1, %s) i RETURNING id",
                          (agent, CREDIT, players))
        ids = [r[0] for r in await cur.fetchall()]
        await cur.execute("INSERT INTO sports (key, title) VALUES ('basketball', 'Basketball')")
        await cur.execute("INSERT INTO leagues (key, sport, title) VALUES ('basketball_nba', 'basketball', 'NBA')")
        await cur.execute("INSERT INTO books (key, title) VALUES ('housebook', 'House'), ('otherbook', 'Other')")
        for i in range(EVENTS):
            await cur.execute("INSERT INTO events (id, sport, league, home_team, away_team, commence_time) "
                              "VALUES (%s, 'basketball', 'basketball_nba', %s, %s, now() + interval '1 day')",
                              (f"bench{i}", TEAMS[2 * i], TEAMS[2 * i + 1]))
            await cur.execute("INSERT INTO markets (event_id, market) VALUES (%s, 'h2h'), (%s, 'spreads'), "
                              "(%s, 'totals')", (f"bench{i}",) * 3)
        for row in catalog():
            await cur.execute("INSERT INTO odds (event_id, book, market, outcome, price, point, last_update) "
                              "VALUES (%s, %s, %s, %s, %s, %s, now())", row)
        await cur.execute("CREATE TABLE bench_counters (id integer PRIMARY KEY, n bigint NOT NULL DEFAULT 0)")
        await cur.execute("INSERT INTO bench_counters (id) SELECT generate_series(1, 10000)")
    return ids


def make_slip(rng: random.Random, board: dict[str, list[tuple[str, str, str, int, float | None]]]) -> dict[str, Any]:
    """A realistic bet: mostly straights, some 2-4 leg parlays on distinct events."""
    def pick(event: str) -> dict[str, Any]:
        book, market, outcome, price, point = rng.choice(board[event])
        return {"event_id": event, "market": market, "outcome": outcome, "point": point, "book": book,
                "price": price}

    stake = rng.choice([500, 1000, 1100, 2000, 2500, 5000])
    if rng.random() < 0.6:
        return {"type": "straight", "stake_cents": stake, "selections": [pick(rng.choice(list(board)))]}
    events = rng.sample(list(board), rng.randint(2, 4))
    return {"type": "parlay", "stake_cents": stake // 5, "selections": [pick(e) for e in events]}


def board_of() -> dict[str, list[tuple[str, str, str, int, float | None]]]:
    """The catalog by event: (book, market, outcome, price, point) of each price."""
    board: dict[str, list[tuple[str, str, str, int, float | None]]] = {}
    for ev, book, market, outcome, price, point in catalog():
        board.setdefault(ev, []).append((book, market, outcome, price, point))
    return board


async def drive_bets(urls: list[str], tokens: dict[int, str], seconds: float, concurrency: int) -> dict[str, Any]:
    """Place bets from ``concurrency`` aiohttp workers for ``seconds``; rate, latency percentiles, statuses."""
    board = board_of()
    players = list(tokens)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors: dict[str, int] = {}
    stop_at = time.perf_counter() + seconds

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
        async def worker(n: int) -> None:
            rng = random.Random(n)
            while time.perf_counter() < stop_at:
                user = rng.choice(players)
                body = orjson.dumps(make_slip(rng, board))
                headers = {"Authorization": f"Bearer {tokens[user]}", "Idempotency-Key": uuid.uuid4().hex,
                           "Content-Type": "application/json"}
                t0 = time.perf_counter()
                async with http.post(urls[n % len(urls)], data=body, headers=headers) as resp:
                    payload = await resp.read()
                latencies.append(time.perf_counter() - t0)
                statuses[str(resp.status)] = statuses.get(str(resp.status), 0) + 1
                if resp.status != 201:
                    code = orjson.loads(payload).get("error", "?")
                    errors[code] = errors.get(code, 0) + 1

        started, cpu0 = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu0
    ok = statuses.get("201", 0)
    return {"driver": "python", "bets_per_s": ok / elapsed, "requests": len(latencies), "ok": ok,
            "statuses": statuses, "errors": errors, "unanswered_at_stop": 0,
            "client_cpu_ms_per_request": cpu * 1000 / max(1, len(latencies)), **percentiles(latencies)}


def write_requests(path: Path, tokens: dict[int, str], count: int, seed: int) -> None:
    """``count`` prepared bets for wrk, one per line: "<token>\t<JSON body>"."""
    rng, board, players = random.Random(seed), board_of(), list(tokens)
    with path.open("w") as out:
        for _ in range(count):
            out.write(f"{tokens[rng.choice(players)]}\t{orjson.dumps(make_slip(rng, board)).decode()}\n")


async def drive_bets_wrk(url: str, requests: Path, run: str, seconds: float, concurrency: int) -> dict[str, Any]:
    """Place the prepared bets with wrk (one thread, ``concurrency`` keep-alive connections) for ``seconds``.

    wrk stops with requests in flight and does not wait for their answers: those bets may be
    placed without being counted (``unanswered_at_stop`` bounds them by the concurrency).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = await asyncio.create_subprocess_exec(
        "wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--timeout", "10s", "-s", str(WRK_SCRIPT),
        url, "--", str(requests), run, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed: {err.decode()[-2000:]}")
    result = orjson.loads(out.decode().strip().splitlines()[-1])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    elapsed = result["duration_us"] / 1e6
    statuses = {"201": result["ok"]} | ({"other": result["other"]} if result["other"] else {})
    return {"driver": "wrk", "bets_per_s": result["ok"] / elapsed, "requests": result["requests"], "ok": result["ok"],
            "statuses": statuses, "errors": {result["first_other"]: result["other"]} if result["other"] else {},
            "socket_errors": result["socket_errors"], "unanswered_at_stop": concurrency,
            "client_cpu_ms_per_request": cpu * 1000 / max(1, result["requests"]),
            "p50_ms": result["p50_us"] / 1000, "p99_ms": result["p99_us"] / 1000, "max_ms": result["max_us"] / 1000}


def percentiles(latencies: list[float]) -> dict[str, float]:
    """p50 / p99 / max in milliseconds."""
    if len(latencies) < 2:
        return {"p50_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan")}
    return {"p50_ms": percentile(latencies, 0.5) * 1000, "p99_ms": percentile(latencies, 0.99) * 1000,
            "max_ms": max(latencies) * 1000}


async def update_loop(dsn: str, seconds: float, concurrency: int, postmaster: int | None) -> dict[str, Any]:
    """Autocommitted single-row UPDATEs from ``concurrency`` aiopg connections for ``seconds``."""
    latencies: list[float] = []
    conns = [await aiopg.connect(dsn) for _ in range(concurrency)]
    try:
        stop_at = time.perf_counter() + seconds

        async def worker(n: int) -> None:
            rng = random.Random(n)
            async with conns[n].cursor() as cur:
                while time.perf_counter() < stop_at:
                    t0 = time.perf_counter()
                    await cur.execute("UPDATE bench_counters SET n = n + 1 WHERE id = %s", (rng.randint(1, 10000),))
                    latencies.append(time.perf_counter() - t0)

        started, pg0 = time.perf_counter(), cluster_cpu_seconds(postmaster)
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        elapsed, pg_cpu = time.perf_counter() - started, cluster_cpu_seconds(postmaster) - pg0
    finally:
        for conn in conns:
            await conn.close()
    return {"tps": len(latencies) / elapsed, "updates": len(latencies),
            "postgres_cpu_ms_per_update": pg_cpu * 1000 / max(1, len(latencies)), **percentiles(latencies)}


# One straight bet as the SQL a placement sends (sql/0015_placement_functions.sql), for pgbench -f:
# the database's share of a bet without HTTP, Python or Redis. A random player and event; the key,
# the ledger chain tip and the new risk come from the read, as in restapi.betting.service.
SQL_ONLY_SCRIPT = """\\set uid random({first}, {last})
\\set e random(0, {events})
BEGIN;
SELECT ledger_seq AS seq, ledger_head AS head, pending_risk_cents + 1000 AS risk_after, bet_id, md5(random()::text) AS key FROM bet_placement_open(:uid, 'sql-only', ARRAY['bench' || :e], ARRAY['h2h'], ARRAY['Team AA']) \\gset
SELECT bet_insert(:bet_id, :uid, {agent}, 'straight', 1000, 2500, ARRAY['basketball', 'basketball_nba'], '{legs}'::jsonb, ':key', md5(':key') || md5(':key'), '{response}'::jsonb);
SELECT ledger_append(:uid, :seq + 1, 0, 1000, 0, :risk_after, 'bet_risk', 'bet', ':bet_id', :uid, '', '{{"sport": "basketball_nba", "bet_type": "straight"}}', false, now(), ':head', md5(':head') || md5(':head'));
COMMIT;
"""  # noqa: E501


def pgbench_binary() -> Path | None:
    """The pgbench of the embedded PostgreSQL, else one on PATH, else None."""
    binary = wheel_pg_bin() / "pgbench"
    if binary.exists():
        return binary
    found = shutil.which("pgbench")
    return Path(found) if found else None


def run_pgbench(binary: Path, dsn: str, seconds: float, concurrency: int, *script: str) -> dict[str, Any]:
    """tps and mean latency of a pgbench run."""
    out = subprocess.run([str(binary), *script, "-c", str(concurrency), "-j", "2", "-T", str(max(1, int(seconds))),
                          "-n", dsn], check=True, capture_output=True, text=True, timeout=seconds + 60).stdout
    tps = re.search(r"tps = ([0-9.]+)", out)
    lat = re.search(r"latency average = ([0-9.]+) ms", out)
    return {"tps": float(tps.group(1)) if tps else float("nan"),
            "latency_avg_ms": float(lat.group(1)) if lat else float("nan")}


async def sql_only(dsn: str, tmp: Path, seconds: float, concurrency: int) -> dict[str, Any] | None:
    """Straight bets as bare SQL from pgbench (``SQL_ONLY_SCRIPT``), or None without pgbench."""
    binary = pgbench_binary()
    if binary is None:
        return None
    async with aiopg.connect(dsn) as conn, conn.cursor() as cur:
        await cur.execute("SELECT min(id), max(id), min(agent_id) FROM users WHERE role = 'player'")
        first, last, agent = await cur.fetchone()
        await cur.execute("SELECT response FROM bet_requests WHERE bet_id = (SELECT min(bet_id) FROM bet_requests)")
        (response,) = await cur.fetchone()
    legs = [{"leg_no": 1, "event_id": "bench1", "sport": "basketball", "league": "basketball_nba",
             "home_team": TEAMS[2], "away_team": TEAMS[3], "commence_time": "2030-01-01T00:00:00+00:00",
             "market": "h2h", "outcome": TEAMS[2], "point": None, "book": "housebook", "price": -150,
             "price_seen": -150, "point_seen": None, "live": False}]
    script = tmp / "bet.pgbench"
    quoted = orjson.dumps(response).decode().replace("'", "''")  # inside a SQL string literal
    script.write_text(SQL_ONLY_SCRIPT.format(first=first, last=last, events=EVENTS - 1, agent=agent,
                                             legs=orjson.dumps(legs).decode(), response=quoted))
    return await asyncio.to_thread(run_pgbench, binary, dsn, seconds, concurrency, "-f", str(script))


def pgbench(dsn: str, seconds: float, concurrency: int) -> dict[str, Any] | None:
    """``pgbench -b simple-update`` on the same database, or None without the binary."""
    binary = pgbench_binary()
    if binary is None:
        return None
    subprocess.run([str(binary), "-i", "-s", "1", "-q", dsn], check=True, capture_output=True, timeout=120)
    return run_pgbench(binary, dsn, seconds, concurrency, "-b", "simple-update")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cluster_cpu_seconds(postmaster: int | None) -> float:
    """CPU seconds of an embedded PostgreSQL: the postmaster and its children (backends, WAL writer...)."""
    if postmaster is None:
        return float("nan")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        if int(fields[1]) == postmaster or int(stat.parent.name) == postmaster:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    pg = redis = None
    servers: list[subprocess.Popen[bytes]] = []
    try:
        if os.environ.get("DATABASE_URL"):
            server_url = os.environ["DATABASE_URL"]
        else:
            pg = EmbeddedPostgres(tmp / "pg", fast=args.fast)
            server_url = pg.start()
        redis_url = os.environ.get("REDIS_URL") or ""
        if not redis_url:
            redis = EmbeddedRedis(tmp / "redis")
            redis_url = redis.start()
        db = f"wb_bench_{os.getpid()}"
        async with aiopg.connect(server_url) as conn, conn.cursor() as cur:
            await cur.execute(f"CREATE DATABASE {db}")
        dsn = server_url.rsplit("/", 1)[0] + f"/{db}"
        await migrate.migrate(dsn)
        ids = await seed(dsn, args.players)
        ring = KeyRing.load(tmp / "keys", create=True)
        tokens = {i: ring.sign(access_claims(i, "player", None, ttl=3600)) for i in ids}

        env = {**os.environ, "DATABASE_URL": dsn, "REDIS_URL": redis_url, "AUTH_KEYS_DIR": str(tmp / "keys"),
               "API_RATE_LIMIT": "100000000", "LOG_LEVEL": "WARNING", "PG_POOL_MAX": str(args.pool),
               "BETTING_MAX_STAKE_CENTS": str(10**9), "BETTING_MAX_PAYOUT_CENTS": str(10**12)}
        env["RESTAPI_MAX_CONNS_PER_IP"] = "0"  # the load generator is one address: no per-address cap
        env["RESTAPI_REUSE_PORT"] = "true"  # the processes share one port; the kernel spreads connections
        port = free_port()
        cmd = os.environ.get("BENCH_SERVER_CMD", "-m restapi").split()
        for _ in range(args.servers):
            servers.append(subprocess.Popen([sys.executable, *cmd, "--port", str(port)], cwd=ROOT, env=env,
                                            stdin=subprocess.DEVNULL))
            await wait_ready(f"http://127.0.0.1:{port}/readyz", servers)
        url = f"http://127.0.0.1:{port}/api/v1/betting/bets"

        async def drive(seconds: float, run_id: str, concurrency: int = max(args.concurrency)) -> dict[str, Any]:
            if args.driver == "wrk":
                return await drive_bets_wrk(url, tmp / "requests.tsv", run_id, seconds, concurrency)
            return await drive_bets([url], tokens, seconds, concurrency)

        if args.driver == "wrk":
            write_requests(tmp / "requests.tsv", tokens, 20_000, seed=1)
        warm = await drive(1.0, "warm")  # warm-up: connections, pools, caches, PL/pgSQL plans
        postmaster = pg.pid if pg else None
        runs: list[dict[str, Any]] = []
        for concurrency in args.concurrency:
            cpu0, pg0 = sum(cpu_seconds(p.pid) for p in servers), cluster_cpu_seconds(postmaster)
            bets = await drive(args.seconds, f"c{concurrency}", concurrency)
            placed = max(1, bets["ok"])
            bets["server_cpu_ms_per_bet"] = (sum(cpu_seconds(p.pid) for p in servers) - cpu0) * 1000 / placed
            bets["postgres_cpu_ms_per_bet"] = (cluster_cpu_seconds(postmaster) - pg0) * 1000 / placed
            runs.append({"concurrency": concurrency, "bets": bets})
        for proc in servers:
            proc.terminate()
        for proc in servers:
            proc.wait(15)
        servers.clear()
        async with aiopg.connect(dsn) as conn, conn.cursor() as cur:
            await cur.execute("SELECT count(*), sum(stake_cents) FROM bets")
            count, staked = await cur.fetchone()
            await cur.execute("SELECT sum(pending_risk_cents) FROM users")
            (held,) = await cur.fetchone()
        drives = [warm] + [entry["bets"] for entry in runs]
        answered = sum(d["ok"] for d in drives)
        unanswered = sum(d["unanswered_at_stop"] for d in drives)
        assert answered <= count <= answered + unanswered, f"{answered} bets accepted, {count} in the database"
        assert held == staked, "ledger holds differ from the stakes"
        for entry in runs:  # the baselines at the same concurrency, on the same database, after the bets
            entry["update_loop"] = await update_loop(dsn, args.seconds, entry["concurrency"], postmaster)
            entry["pgbench"] = await asyncio.to_thread(pgbench, dsn, args.seconds, entry["concurrency"])
            entry["sql_only"] = await sql_only(dsn, tmp, args.seconds, entry["concurrency"])
            entry["ratio_to_update_loop"] = entry["bets"]["bets_per_s"] / entry["update_loop"]["tps"]
            pgb = entry["pgbench"]
            entry["ratio_to_pgbench"] = entry["bets"]["bets_per_s"] / pgb["tps"] if pgb else None
        return {"runs": runs, "bets_in_db": count}
    finally:
        for proc in servers:
            proc.terminate()
            proc.wait(15)
        if redis:
            redis.stop()
        if pg:
            pg.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=lambda v: [int(c) for c in v.split(",")], default=[8, 16, 32],
                        help="comma-separated connection counts, one row each (default 8,16,32)")
    parser.add_argument("--players", type=int, default=200)
    parser.add_argument("--servers", type=int, default=1, help="restapi processes sharing the port")
    parser.add_argument("--driver", choices=("wrk", "python"), default="wrk" if shutil.which("wrk") else "python",
                        help="load generator (default: wrk when installed)")
    parser.add_argument("--pool", type=int, default=20, help="PG_POOL_MAX of each restapi process")
    parser.add_argument("--fast", action="store_true", help="fsync off for the embedded PostgreSQL")
    args = parser.parse_args()
    (ROOT / ".data").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-bets-", dir=ROOT / ".data") as tmp:
        result = asyncio.run(run(args, Path(tmp)))
    runs = result["runs"]
    driver = runs[0]["bets"]["driver"]
    print(f"\nbet placement, {args.seconds:g} s per row, {args.servers} restapi process(es), fsync "
          f"{'off' if args.fast else 'on'}, load from {driver}; baselines at the same concurrency, same database")
    head = ("conc", "bets/s", "p50 ms", "p99 ms", "UPDATE tps", "pgbench tps", "÷UPDATE", "÷pgbench",
            "SQL-only bets/s", "SQL-only ÷pgbench", "restapi ms/bet", "PG ms/bet", "PG ms/UPDATE")
    print(" ".join(f"{h:>{max(6, len(h))}}" for h in head))
    for entry in runs:
        bets, loop, pgb, bare = entry["bets"], entry["update_loop"], entry["pgbench"], entry["sql_only"]
        cells = (entry["concurrency"], f"{bets['bets_per_s']:.0f}", f"{bets['p50_ms']:.1f}", f"{bets['p99_ms']:.1f}",
                 f"{loop['tps']:.0f}", f"{pgb['tps']:.0f}" if pgb else "-", f"{entry['ratio_to_update_loop']:.3f}",
                 f"{entry['ratio_to_pgbench']:.3f}" if pgb else "-", f"{bare['tps']:.0f}" if bare else "-",
                 f"{bare['tps'] / pgb['tps']:.3f}" if bare and pgb else "-", f"{bets['server_cpu_ms_per_bet']:.2f}",
                 f"{bets['postgres_cpu_ms_per_bet']:.2f}", f"{loop['postgres_cpu_ms_per_update']:.2f}")
        print(" ".join(f"{c!s:>{max(6, len(h))}}" for c, h in zip(cells, head, strict=True)))
        if bets["errors"]:
            print(f"  c={entry['concurrency']}: not 201: {bets['statuses']} {bets['errors']}")
    print(f"load generator CPU per request: {runs[0]['bets']['client_cpu_ms_per_request']:.3f} ms; "
          f"bets in the database: {result['bets_in_db']} (every 201 among them)")
    out = {"benchmark": "bets", "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
           "config": vars(args), **result}
    (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
    (ROOT / "bench" / "results" / "bets.json").write_text(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
