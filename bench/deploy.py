"""Rolling deploy and rollback under load: failed requests, missed offsets and the time taken.

    .venv/bin/python bench/deploy.py [--rest 2] [--push 2] [--sockets 40] [--rest-workers 4]
                                     [--bet-workers 2] [--rate 20] [--previous HEAD~1]

Starts embedded PostgreSQL and Redis, migrates (the newest schema), loads a book (bench/bets.py),
and runs ``--rest`` restapi and ``--push`` pushd nodes from the previous commit (``git archive``, no
worktree) behind the real nginx front door (deploy/nginx, TLS with a throwaway certificate). Under
load through nginx (REST reads, bet placements with Idempotency-Keys, sockets subscribed to a
sport that resume from their offsets after a ``reconnect`` hint or a close, and a publisher writing
odds entries as ingest does) it rolls every node to this checkout with deploy/rolling_deploy.py,
then rolls back to the previous commit. For each roll it reports: requests and failures (any
non-2xx/409 answer or network error, no client retry), bets and failures, odds entries published,
entries some socket never received (missed offsets), reconnects, and the time taken. Writes
``bench/results/deploy.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import aiopg
import orjson
import redis.asyncio as aioredis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "deploy"))

from rolling_deploy import Nginx, Node, roll, upstreams_text  # noqa: E402
from rolling_deploy import wait_ready as node_ready  # noqa: E402

from bench.bets import board_of, make_slip, seed  # noqa: E402
from devtools.certs import throwaway_cert  # noqa: E402
from devtools.devservers import EmbeddedPostgres, EmbeddedRedis, free_port  # noqa: E402
from shared import migrate, pushticket, streams  # noqa: E402
from shared.tokens import KeyRing, access_claims  # noqa: E402

LEAGUE = "basketball_nba"
TEMPLATE = ROOT / "deploy" / "nginx" / "wagerbabe.conf.template"


class Processes:
    """restapi/pushd processes by node, started from a release folder (the Launcher of rolling_deploy)."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.procs: dict[Node, subprocess.Popen[bytes]] = {}

    async def start(self, node: Node, release: str) -> None:
        port_var = "RESTAPI_PORT" if node.kind == "restapi" else "PUSHD_PORT"
        env = {**self.env, port_var: str(node.port), "PYTHONPATH": release,
               "PUSHD_NODE_ID": f"push-{node.port}-{uuid.uuid4().hex[:4]}"}
        log = (self.logs / f"{node.kind}-{node.port}.log").open("ab")
        self.procs[node] = subprocess.Popen([sys.executable, "-m", node.kind], cwd=release, env=env,
                                            stdout=log, stderr=log, stdin=subprocess.DEVNULL)

    async def stop(self, node: Node) -> None:
        proc = self.procs.pop(node, None)
        if proc is not None and proc.poll() is None:
            proc.terminate()
            await asyncio.to_thread(proc.wait, 30)

    async def stop_all(self) -> None:
        for node in list(self.procs):
            await self.stop(node)


@dataclass
class Tally:
    """What the load saw during one phase."""

    requests: int = 0
    failed: int = 0
    bets: int = 0
    bets_failed: int = 0
    bet_retries: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    published: list[str] = field(default_factory=list)
    reconnects: int = 0
    snapshots: int = 0

    def status(self, what: str) -> None:
        self.statuses[what] = self.statuses.get(what, 0) + 1


class Load:
    """REST readers, bettors, sockets and an odds publisher, all through the front door."""

    def __init__(self, base: str, tls: ssl.SSLContext, redis: aioredis.Redis, tokens: dict[int, str],
                 args: argparse.Namespace) -> None:
        self.base, self.tls, self.redis, self.tokens, self.args = base, tls, redis, tokens, args
        self.tally = Tally()
        self.stop = asyncio.Event()
        self.seen: list[set[str]] = []  # per socket: offsets received
        self.first: list[str | None] = []  # per socket: the offset it started from

    async def rest_worker(self, http: aiohttp.ClientSession) -> None:
        while not self.stop.is_set():
            self.tally.requests += 1
            try:
                async with http.get(f"{self.base}/api/v1/betting/odds?league={LEAGUE}&limit=5") as resp:
                    await resp.read()
                    self.tally.status(str(resp.status))
                    if resp.status != 200:
                        self.tally.failed += 1
            except (aiohttp.ClientError, TimeoutError) as exc:
                self.tally.failed += 1
                self.tally.status(type(exc).__name__)

    async def bet_worker(self, http: aiohttp.ClientSession, n: int) -> None:
        """Place bets as the web app does: a network error before an answer is retried with the same
        Idempotency-Key (so it can never book twice); only a bet still failing after that counts."""
        rng, board, players = random.Random(n), board_of(), list(self.tokens)
        while not self.stop.is_set():
            player, key, slip = rng.choice(players), uuid.uuid4().hex, make_slip(rng, board)
            self.tally.bets += 1
            for attempt in range(3):
                try:
                    async with http.post(f"{self.base}/api/v1/betting/bets", json=slip,
                                         headers={"Authorization": f"Bearer {self.tokens[player]}",
                                                  "Idempotency-Key": key}) as resp:
                        await resp.read()
                        self.tally.status(f"bet {resp.status}")
                        if resp.status not in (200, 201):
                            self.tally.bets_failed += 1
                        break
                except (aiohttp.ClientError, TimeoutError) as exc:
                    self.tally.status(f"bet {type(exc).__name__}")
                    if attempt == 2:
                        self.tally.bets_failed += 1
                    else:
                        self.tally.bet_retries += 1

    async def publisher(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            change = {"event": "bench0", "book": "housebook", "market": "h2h", "outcome": "Team AA",
                      "price": -150 - n % 7, "point": None, "t": int(time.time() * 1000)}
            fields: Any = streams.encode_odds([change])
            offset = (await self.redis.xadd(streams.odds_stream(LEAGUE), fields)).decode()
            await self.redis.hset(streams.snap_key(LEAGUE), streams.SNAP_OFFSET, offset)
            self.tally.published.append(offset)
            await asyncio.sleep(1 / self.args.rate)

    async def socket(self, http: aiohttp.ClientSession, i: int) -> None:
        """One subscriber that resumes from its last offset whenever the server moves it."""
        self.seen.append(set())
        self.first.append(None)
        pos: dict[str, str] | None = None
        while not self.stop.is_set():
            try:
                ticket = await pushticket.issue(self.redis, user_id=1000 + i, role="player", agent_id=1, ttl=60)
                async with http.ws_connect(self.base.replace("https", "wss") + "/ws", heartbeat=None) as ws:
                    await ws.send_str(orjson.dumps({"op": "hello", "token": ticket}).decode())
                    sub: dict[str, Any] = {"op": "sub", "id": 1, "topics": [f"sport:{LEAGUE}"]}
                    if pos is not None:
                        sub["since"] = {f"sport:{LEAGUE}": pos}
                    async for msg in ws:
                        if msg.type is not aiohttp.WSMsgType.TEXT:
                            break
                        f = orjson.loads(msg.data)
                        op = f["op"]
                        if op == "welcome":
                            await ws.send_str(orjson.dumps(sub).decode())
                        elif op == "snapshot":
                            self.tally.snapshots += pos is not None
                            pos = {"epoch": f["epoch"], "offset": f["offset"]}
                            if self.first[i] is None:
                                self.first[i] = f["offset"]
                        elif op == "odds":
                            self.seen[i].add(f["offset"])
                            pos = {"epoch": (pos or {}).get("epoch", ""), "offset": f["offset"]}
                        elif op == "subscribed":
                            epoch = (f.get("epochs") or {}).get(f"sport:{LEAGUE}")
                            if epoch and pos is not None:
                                pos["epoch"] = epoch
                        elif op == "reconnect":
                            await asyncio.sleep(f.get("after_ms", 1000) / 1000)
                            break
                        if self.stop.is_set():
                            break
            except (aiohttp.ClientError, TimeoutError, OSError):
                await asyncio.sleep(0.2)
            if not self.stop.is_set():
                self.tally.reconnects += 1

    def missed(self) -> int:
        """Published entries, after a socket's start, that it never received (counted over sockets)."""
        total = 0
        for first, seen in zip(self.first, self.seen, strict=True):
            if first is None:
                continue
            key = streams_key(first)
            total += sum(1 for o in self.tally.published if streams_key(o) > key and o not in seen)
        return total


def streams_key(offset: str) -> tuple[int, int]:
    ms, _, seq = offset.partition("-")
    return int(ms), int(seq or 0)


async def phase(load_args: tuple[Any, ...], action: Any) -> tuple[Tally, int, Any]:
    """Run the load around ``action``; (tally, missed offsets, the action's result)."""
    load = Load(*load_args)
    conn = aiohttp.TCPConnector(ssl=load.tls, limit=0)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=30)
    async with aiohttp.ClientSession(connector=conn, timeout=timeout) as http:
        tasks = [asyncio.create_task(load.socket(http, i)) for i in range(load.args.sockets)]
        await asyncio.sleep(2)  # sockets subscribed before the first entry counts
        tasks += [asyncio.create_task(load.publisher())]
        tasks += [asyncio.create_task(load.rest_worker(http)) for _ in range(load.args.rest_workers)]
        tasks += [asyncio.create_task(load.bet_worker(http, n)) for n in range(load.args.bet_workers)]
        await asyncio.sleep(1)
        result = await action()
        await asyncio.sleep(3)  # the last entries reach every socket
        load.stop.set()
        await asyncio.wait(tasks, timeout=15)
        for t in tasks:
            t.cancel()
    # Entries published in the last second may still be in flight: do not count them as missed.
    cutoff = len(load.tally.published) - load.args.rate
    load.tally.published = load.tally.published[:max(cutoff, 0)]
    return load.tally, load.missed(), result


def write_nginx(folder: Path, cert: Path, key: Path, http_port: int, https_port: int) -> list[str]:
    """The front door's nginx.conf under ``folder``; returns the nginx command prefix."""
    env = {**os.environ, "WB_SERVER_NAME": "127.0.0.1", "WB_HTTP_PORT": str(http_port),
           "WB_HTTPS_PORT": str(https_port), "WB_REDIRECT_PORT": f":{https_port}", "WB_CERT": str(cert),
           "WB_KEY": str(key), "WB_UPSTREAMS": str(folder / "upstreams.conf")}
    names = " ".join("${" + k + "}" for k in env if k.startswith("WB_"))
    site = subprocess.run(["envsubst", names], input=TEMPLATE.read_text(), env=env, capture_output=True, text=True,
                          check=True).stdout
    (folder / "wagerbabe.conf").write_text(site)
    temp = folder / "temp"
    temp.mkdir(exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(
        f"{user}worker_processes 1;\npid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'} warn;\n"
        "events { worker_connections 4096; }\n"
        f"http {{\n include /etc/nginx/mime.types;\n access_log off;\n client_body_temp_path {temp}/b;\n"
        f" proxy_temp_path {temp}/p;\n fastcgi_temp_path {temp}/f;\n uwsgi_temp_path {temp}/u;\n"
        f" scgi_temp_path {temp}/s;\n include {folder / 'wagerbabe.conf'};\n}}\n")
    return ["/usr/sbin/nginx", "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", str(folder / "error.log")]


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    previous = tmp / "previous"
    previous.mkdir()
    archive = subprocess.run(["git", "archive", args.previous], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(previous)], input=archive, check=True)
    commit = subprocess.run(["git", "rev-parse", "--short", args.previous], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.strip()
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()
    pg, rds = EmbeddedPostgres(tmp / "pg", fast=True), EmbeddedRedis(tmp / "redis")
    procs: Processes | None = None
    nginx_proc = None
    try:
        server_url, redis_url = pg.start(), rds.start()
        db = f"wb_deploy_{os.getpid()}"
        async with aiopg.connect(server_url) as conn, conn.cursor() as cur:
            await cur.execute(f"CREATE DATABASE {db}")
        dsn = server_url.rsplit("/", 1)[0] + f"/{db}"
        await migrate.migrate(dsn)  # the newest schema: the previous release must run on it
        ids = await seed(dsn, 100)
        ring = KeyRing.load(tmp / "keys", create=True)
        tokens = {i: ring.sign(access_claims(i, "player", None, ttl=3600)) for i in ids}
        cert, key = throwaway_cert(tmp)
        http_port, https_port = free_port(), free_port()
        nodes = ([Node("restapi", "127.0.0.1", free_port()) for _ in range(args.rest)]
                 + [Node("pushd", "127.0.0.1", free_port()) for _ in range(args.push)])
        env = {**os.environ, "DATABASE_URL": dsn, "REDIS_URL": redis_url, "AUTH_KEYS_DIR": str(tmp / "keys"),
               "API_RATE_LIMIT": "100000000", "LOG_LEVEL": "WARNING", "TRUSTED_PROXIES": "127.0.0.1",
               "BETTING_MAX_STAKE_CENTS": str(10**9), "BETTING_MAX_PAYOUT_CENTS": str(10**12),
               "PUSHD_DRAIN_WINDOW": str(args.drain), "PUSHD_RESCAN_INTERVAL": "0.5"}
        procs = Processes(env, tmp)
        for node in nodes:
            await procs.start(node, str(previous))
        for node in nodes:
            await node_ready(node, 60)
        nginx_cmd = write_nginx(tmp, cert, key, http_port, https_port)
        nginx = Nginx(tmp / "upstreams.conf", " ".join([*nginx_cmd, "-s", "reload"]))
        nginx.upstreams.write_text(upstreams_text(nodes))
        nginx_proc = subprocess.Popen([*nginx_cmd, "-g", "daemon off;"], stdin=subprocess.DEVNULL)
        base = f"https://127.0.0.1:{https_port}"
        tls = ssl.create_default_context(cafile=str(cert))
        deadline = time.monotonic() + 30
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=tls)) as http:
            while True:
                try:
                    async with http.get(f"{base}/healthz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    if time.monotonic() > deadline:
                        raise
                await asyncio.sleep(0.1)
        redis = aioredis.Redis.from_url(redis_url)
        first: Any = await redis.xadd(streams.odds_stream(LEAGUE), streams.encode_odds([]))  # the stream exists
        await redis.hset(streams.snap_key(LEAGUE), mapping={streams.SNAP_EPOCH: "bench",
                                                             streams.SNAP_OFFSET: first.decode()})
        load_args = (base, tls, redis, tokens, args)
        results: dict[str, Any] = {}
        for name, release in (("rolling deploy", str(ROOT)), ("rollback", str(previous))):
            async def action(release: str = release) -> Any:
                return await roll(nodes, nginx, procs, release, settle=args.settle, log=lambda m: None)
            tally, missed, report = await phase(load_args, action)
            results[name] = {"release": head if release == str(ROOT) else commit, "seconds": round(report.seconds, 1),
                             "requests": tally.requests, "failed_requests": tally.failed, "bets": tally.bets,
                             "failed_bets": tally.bets_failed, "bet_retries_same_key": tally.bet_retries,
                             "entries_published": len(tally.published),
                             "sockets": args.sockets, "missed_offsets": missed, "reconnects": tally.reconnects,
                             "resumed_by_snapshot": tally.snapshots, "statuses": tally.statuses}
        await redis.aclose()
        return {"from": commit, "to": head, "nodes": {"restapi": args.rest, "pushd": args.push}, **results}
    finally:
        if nginx_proc is not None:
            nginx_proc.terminate()
            nginx_proc.wait(10)
        if procs is not None:
            await procs.stop_all()
        rds.stop()
        pg.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rest", type=int, default=2)
    ap.add_argument("--push", type=int, default=2)
    ap.add_argument("--sockets", type=int, default=40)
    ap.add_argument("--rest-workers", type=int, default=4)
    ap.add_argument("--bet-workers", type=int, default=2)
    ap.add_argument("--rate", type=int, default=20, help="odds entries published per second")
    ap.add_argument("--drain", type=float, default=2.0, help="PUSHD_DRAIN_WINDOW of the nodes")
    ap.add_argument("--settle", type=float, default=1.0, help="seconds after each nginx reload")
    ap.add_argument("--previous", default="HEAD~1", help="the commit to start from and roll back to")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="wb-deploy-") as t:
        out = asyncio.run(run(args, Path(t)))
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "deploy.json").write_bytes(orjson.dumps(out, option=orjson.OPT_INDENT_2))
    print(f"{args.rest} restapi + {args.push} pushd nodes, {args.sockets} sockets, {out['from']} <-> {out['to']}")
    print(f"{'roll':16} {'s':>6} {'requests':>9} {'failed':>7} {'bets':>6} {'failed':>7} {'retried':>8} "
          f"{'entries':>8} {'missed':>7} {'reconn':>7}")
    for name in ("rolling deploy", "rollback"):
        r = out[name]
        print(f"{name:16} {r['seconds']:>6} {r['requests']:>9} {r['failed_requests']:>7} {r['bets']:>6} "
              f"{r['failed_bets']:>7} {r['bet_retries_same_key']:>8} {r['entries_published']:>8} "
              f"{r['missed_offsets']:>7} {r['reconnects']:>7}")


if __name__ == "__main__":
    main()
