"""Socket soak of pushd with the Node ``ws`` and python ``websockets`` peers in the same run (loopback).

For each N it starts the server (pushd: several processes sharing one port with SO_REUSEPORT; a
peer: one process), opens N sockets from load-generator processes spread over source addresses
127.0.0.2 and up, subscribes them over several sports, drives updates at a steady rate (pushd:
through the real ``odds:{sport}`` streams in Redis; peers: over a publisher socket, same frames) and
measures delivered frames/s, ingest-to-client latency (``t`` in the change), server RSS per socket and
server CPU per delivered frame. For pushd it then drops 10% of the sockets at once and times how
long until all resumed from their offsets, counting gaps. Ratios are against pushd in the same run.

    python bench/soak.py --sizes 1000,10000           # peers run up to --peer-max sockets
    python bench/soak.py --sizes 50000 --peers none   # the 50k target (pushd only)
    python bench/soak.py --smoke                      # 200 sockets, a few seconds (the test suite runs it)

Writes bench/results/soak.json and bench/results/soak_latency.svg and prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
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
import orjson
import redis.asyncio as aioredis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import percentile  # noqa: E402
from devtools.devservers import EmbeddedRedis, free_port, wait_port  # noqa: E402
from shared import pushticket  # noqa: E402

PEERS = ROOT / "bench" / "peers"
RESULTS = ROOT / "bench" / "results"
PUBLISH = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', 10000, '*', 'v', '1', 'ts', ARGV[1], 'trace', '',
                      'changes', ARGV[2])
if redis.call('HEXISTS', KEYS[2], '_epoch') == 0 then redis.call('HSET', KEYS[2], '_epoch', 'soak') end
redis.call('HSET', KEYS[2], ARGV[3], ARGV[2], '_offset', id)
return id
"""
TICK = os.sysconf("SC_CLK_TCK")


def proc_rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def proc_cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError):
        return 0.0


def changes(sport: str, seq: int) -> list[dict[str, Any]]:
    """Two price changes (~300-byte frame); ``price`` carries the per-sport sequence for gap checks."""
    t = int(time.time() * 1000)
    return [{"event": f"{sport}-e{seq % 50}", "book": "draftkings", "market": "h2h", "outcome": "home",
             "price": seq, "point": None, "t": t},
            {"event": f"{sport}-e{seq % 50}", "book": "fanduel", "market": "spreads", "outcome": "away",
             "price": -110, "point": -3.5, "t": t}]


class Server:
    """A server under test: its processes, port and how updates reach it."""

    def __init__(self, kind: str, port: int, procs: list[subprocess.Popen[bytes]]) -> None:
        self.kind, self.port, self.procs = kind, port, procs

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def rss_kb(self) -> int:
        return sum(proc_rss_kb(p) for p in self.pids)

    def cpu_s(self) -> float:
        return sum(proc_cpu_s(p) for p in self.pids)

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def start_server(kind: str, n: int, args: argparse.Namespace, redis_url: str, keys: Path) -> Server:
    port = free_port()
    procs: list[subprocess.Popen[bytes]] = []
    if kind == "pushd":
        count = args.procs or max(2, math.ceil(n / 15000))
        for i in range(count):
            env = {**os.environ, "REDIS_URL": redis_url, "PUSHD_PORT": str(port), "PUSHD_REUSE_PORT": "1",
                   "PUSHD_NODE_ID": f"soak-{i}", "AUTH_KEYS_DIR": str(keys), "LOG_LEVEL": "WARNING",
                   "PUSHD_HELLO_TIMEOUT": "60", "PUSHD_PING_INTERVAL": "120", "PUSHD_READ_BLOCK_MS": "1000"}
            env["PUSHD_MAX_CONNS_PER_IP"] = "0"  # the load generator is one address: no per-address cap
            # Thousands of hellos in flight each wait for a Redis connection (ticket, denylist): with 32 a
            # busy box passed the pool's 5 s wait and answered "unavailable"; Redis takes 128 per node easily.
            env["PUSHD_REDIS_MAX_CONNECTIONS"] = str(args.redis_conns)
            procs.append(subprocess.Popen([sys.executable, "-m", "pushd"], cwd=ROOT, env=env,
                                          stdout=subprocess.DEVNULL))
    elif kind == "node":
        procs.append(subprocess.Popen(["node", str(PEERS / "ws_server.js"), str(port)], cwd=PEERS,
                                      stdout=subprocess.DEVNULL))
    else:
        procs.append(subprocess.Popen([sys.executable, str(PEERS / "websockets_server.py"), str(port)],
                                      stdout=subprocess.DEVNULL))
    wait_port("127.0.0.1", port, timeout=30)
    if kind == "pushd":
        time.sleep(1.0)  # every process binds the shared port; the first one answering is not enough
    return Server(kind, port, procs)


class Gens:
    """The load-generator processes and their JSON-lines conversation."""

    def __init__(self, server: Server, n: int, args: argparse.Namespace, run: str, topics: list[str]) -> None:
        count = args.gens or max(1, math.ceil(n / 6000))
        self.timeout = args.ready_timeout + 60
        self.procs: list[asyncio.subprocess.Process] = []
        self.plan = []
        for g in range(count):
            share = n // count + (1 if g < n % count else 0)
            cfg = {"host": "127.0.0.1", "port": server.port, "n": share, "gen": g, "run": run, "topics": topics,
                   "src": f"127.0.0.{2 + g % 19}", "concurrency": args.concurrency,
                   "ready_timeout": args.ready_timeout}
            self.plan.append(cfg)

    async def start(self) -> list[dict[str, Any]]:
        for cfg in self.plan:
            self.procs.append(await asyncio.create_subprocess_exec(
                sys.executable, str(ROOT / "bench" / "loadgen.py"), orjson.dumps(cfg).decode(),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=64 * 1024 * 1024))
        return await self.read_all("ready")

    async def read_all(self, event: str) -> list[dict[str, Any]]:
        out = []
        for p in self.procs:
            assert p.stdout is not None
            while True:
                line = await asyncio.wait_for(p.stdout.readline(), self.timeout)
                if not line:
                    raise RuntimeError(f"load generator exited before {event}")
                doc = orjson.loads(line)
                if doc.get("event") == event:
                    out.append(doc)
                    break
        return out

    async def say(self, cmd: str, reply: str | None) -> list[dict[str, Any]]:
        for p in self.procs:
            assert p.stdin is not None
            p.stdin.write(cmd.encode() + b"\n")
            await p.stdin.drain()
        return await self.read_all(reply) if reply else []

    async def stop(self) -> None:
        for p in self.procs:
            if p.returncode is None and p.stdin is not None:
                p.stdin.write(b"quit\n")
                p.stdin.close()
        for p in self.procs:
            try:
                await asyncio.wait_for(p.wait(), 20)
            except TimeoutError:
                p.kill()
                await p.wait()


async def drive(server: Server, r: aioredis.Redis | None, topics: list[str], rate: float, seconds: float,
                seqs: dict[str, int]) -> int:
    """Publish entries round-robin over the sports at ``rate`` per second for ``seconds``; returns the count."""
    sent = 0
    session = ws = None
    if server.kind != "pushd":
        session = aiohttp.ClientSession()
        ws = await session.ws_connect(f"http://127.0.0.1:{server.port}/ws", max_msg_size=0)
    script = r.register_script(PUBLISH) if r is not None else None
    start = time.monotonic()
    try:
        while (elapsed := time.monotonic() - start) < seconds:
            due = int(elapsed * rate) + 1
            while sent < due:
                topic = topics[sent % len(topics)]
                sport = topic[6:]
                seqs[sport] += 1
                ch = changes(sport, seqs[sport])
                if script is not None:
                    await script(keys=[f"odds:{sport}", f"snap:{sport}"],
                                 args=[int(time.time() * 1000), orjson.dumps(ch), ch[0]["event"]])
                else:
                    assert ws is not None
                    frame = orjson.dumps({"op": "odds", "topic": topic, "offset": f"{int(time.time() * 1000)}-"
                                          f"{seqs[sport]}", "changes": ch})
                    await ws.send_str(f"PUB {topic}\n" + frame.decode())
                sent += 1
            await asyncio.sleep(max(0.0, (sent / rate) - (time.monotonic() - start)))
    finally:
        if ws is not None and session is not None:
            await ws.close()
            await session.close()
    return sent


async def make_tickets(r: aioredis.Redis, plan: list[dict[str, Any]], run: str) -> None:
    """Tickets for every generator (30% spare for the storm), in pipelines of 5,000: one pipeline of
    130,000 SETs timed out writing to Redis on a loaded box."""
    exp = int(time.time()) + 3600
    # With the access token they were bought with: pushd checks its denylist entry at hello and
    # arms a timer for its expiry on each socket.
    claims = orjson.dumps({"sub": "1", "role": "player", "agent_id": None, "exp": exp, "jti": f"soak-{run}",
                           "token_exp": exp + 3600})
    keys = [pushticket.key(f"pt_soak_{run}_{cfg['gen']}_{i}") for cfg in plan
            for i in range(1, int(cfg["n"] * 1.3) + 10)]
    for start in range(0, len(keys), 5000):
        async with r.pipeline(transaction=False) as pipe:
            for key in keys[start:start + 5000]:
                pipe.set(key, claims, ex=3600)
            await pipe.execute()


async def run_one(kind: str, n: int, args: argparse.Namespace, redis_url: str, keys: Path) -> dict[str, Any]:
    topics = [f"sport:soak_{i}" for i in range(args.sports)]
    r = aioredis.Redis.from_url(redis_url) if kind == "pushd" else None
    run = f"{kind}{n}{int(time.time())}"
    seqs = {t[6:]: 0 for t in topics}
    if r is not None:
        await r.flushdb()
        script = r.register_script(PUBLISH)
        for t in topics:
            seqs[t[6:]] = 1
            ch = changes(t[6:], 1)
            await script(keys=[f"odds:{t[6:]}", f"snap:{t[6:]}"], args=[int(time.time() * 1000),
                                                                        orjson.dumps(ch), ch[0]["event"]])
    server = start_server(kind, n, args, redis_url, keys)
    gens = Gens(server, n, args, run, topics)
    try:
        if r is not None:  # single-use push tickets, as restapi would issue them
            await make_tickets(r, gens.plan, run)
        base_rss = server.rss_kb()
        t0 = time.monotonic()
        ready = await gens.start()
        connected = sum(d["ready"] for d in ready)
        connect_s = time.monotonic() - t0
        await asyncio.sleep(1.0)
        rss_kb = server.rss_kb()
        rate = max(1.0, args.frames_per_s * len(topics) / max(1, connected))
        await gens.say("go", "going")
        gen_pids = [g.pid for g in gens.procs]
        cpu0, w0, gcpu0 = server.cpu_s(), time.monotonic(), sum(proc_cpu_s(p) for p in gen_pids)
        entries = await drive(server, r, topics, rate, args.seconds, seqs)
        await asyncio.sleep(0.5)
        cpu1, w1, gcpu1 = server.cpu_s(), time.monotonic(), sum(proc_cpu_s(p) for p in gen_pids)
        stats = await gens.say("stop", "stats")
        frames = sum(s["frames"] for s in stats)
        lat = [x[1] for s in stats for x in s["lat"]]
        series = sorted((x[0], x[1]) for s in stats for x in s["lat"])
        row: dict[str, Any] = {
            "server": kind, "n": n, "procs": len(server.procs), "connected": connected,
            "failed": sum(d["failed"] for d in ready), "loadavg_1m": round(os.getloadavg()[0], 2),
            "connect_s": round(connect_s, 1),
            "rss_kb_per_socket": round((rss_kb - base_rss) / max(1, connected), 2),
            "entries_per_s": round(rate, 2), "frames": frames,
            "frames_per_s": round(frames / args.seconds), "p50_ms": round(percentile(lat, 0.5), 1),
            "p99_ms": round(percentile(lat, 0.99), 1), "max_ms": round(max(lat) if lat else float("nan"), 1),
            "cpu_us_per_frame": round((cpu1 - cpu0) / max(1, frames) * 1e6, 2),
            "cpu_cores": round((cpu1 - cpu0) / (w1 - w0), 2),
            "loadgen_cores": round((gcpu1 - gcpu0) / (w1 - w0), 2), "gaps": sum(s["gaps"] for s in stats),
            "entries": entries, "series": series[:: max(1, len(series) // 4000)],
        }
        if kind == "pushd" and not args.no_storm:
            storm_task = asyncio.create_task(gens.say("storm", "storm"))
            await drive(server, r, topics, rate, 0.5, seqs)  # updates keep flowing during the storm
            storm = await storm_task
            row["storm"] = {k: sum(s[k] for s in storm) for k in ("dropped", "resumed", "recovered", "snapshots",
                                                                    "gaps")}
            row["storm"]["seconds"] = round(max(s["seconds"] for s in storm), 2)
            took = sorted(t for s in storm for t in s["took"])
            row["storm"]["p50_s"] = round(percentile(took, 0.5), 2)
            row["storm"]["p90_s"] = round(percentile(took, 0.9), 2)
        return row
    finally:
        await gens.stop()
        server.stop()
        if r is not None:
            await r.aclose()


def table(rows: list[dict[str, Any]]) -> str:
    head = ("server", "n", "procs", "conn", "KB/sock", "frames/s", "p50 ms", "p99 ms", "µs CPU/frame",
            "cores", "gaps", "storm (resumed/dropped, seconds, gaps)")
    lines = [" | ".join(head), " | ".join("---" for _ in head)]
    for r in rows:
        st = r.get("storm")
        storm = (f"{st['resumed']}/{st['dropped']}, p50 {st['p50_s']} p90 {st['p90_s']} all {st['seconds']}, "
                 f"{st['gaps']}") if st else "-"
        lines.append(" | ".join(str(x) for x in (
            r["server"], r["n"], r["procs"], r["connected"], r["rss_kb_per_socket"], r["frames_per_s"], r["p50_ms"],
            r["p99_ms"], r["cpu_us_per_frame"], r["cpu_cores"], r["gaps"], storm)))
    return "\n".join(lines)


def ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per N, each peer against pushd: fan-out efficiency (CPU per frame), delivered rate, p99, memory."""
    out = []
    for row in rows:
        if row["server"] == "pushd":
            continue
        base = next((b for b in rows if b["server"] == "pushd" and b["n"] == row["n"]), None)
        if base is None:
            continue
        out.append({
            "n": row["n"], "peer": row["server"],
            "fanout_ratio_pushd_vs_peer": round(row["cpu_us_per_frame"] / max(1e-9, base["cpu_us_per_frame"]), 2),
            "delivered_ratio_pushd_vs_peer": round(base["frames_per_s"] / max(1, row["frames_per_s"]), 2),
            "p99_ratio_peer_vs_pushd": round(row["p99_ms"] / max(1e-9, base["p99_ms"]), 2),
            "memory_ratio_pushd_vs_peer": round(base["rss_kb_per_socket"] / max(1e-9, row["rss_kb_per_socket"]), 2),
        })
    return out


def svg(rows: list[dict[str, Any]]) -> str:
    """Latency over time (per-0.25 s p99) of every run, as a dependency-free SVG line chart."""
    w, h, pad = 900, 420, 50
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
    series = []
    for r in rows:
        buckets: dict[int, list[float]] = {}
        for t, lat in r["series"]:
            buckets.setdefault(int(t * 4), []).append(lat)
        series.append((f"{r['server']} n={r['n']}", [(k / 4, percentile(v, 0.99)) for k, v in sorted(buckets.items())]))
    tmax = max((p[0] for _, pts in series for p in pts), default=1) or 1
    lmax = max((p[1] for _, pts in series for p in pts), default=1) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" '
             f'font-size="12"><rect width="100%" height="100%" fill="white"/>',
             f'<text x="{pad}" y="20">p99 latency (ms) per 0.25 s, ingest to client; max {lmax:.0f} ms</text>',
             f'<line x1="{pad}" y1="{h - pad}" x2="{w - 10}" y2="{h - pad}" stroke="black"/>',
             f'<line x1="{pad}" y1="{h - pad}" x2="{pad}" y2="30" stroke="black"/>',
             f'<text x="{w // 2}" y="{h - 15}">seconds into the steady phase (0-{tmax:.1f})</text>']
    for i, (name, pts) in enumerate(series):
        color = colors[i % len(colors)]
        xy = " ".join(f"{pad + t / tmax * (w - pad - 10):.1f},{h - pad - lat / lmax * (h - pad - 30):.1f}"
                      for t, lat in pts)
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{xy}"/>')
        parts.append(f'<text x="{w - 200}" y="{40 + 16 * i}" fill="{color}">{name}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def ensure_node_peer() -> bool:
    """Install ``ws`` into bench/peers/node_modules (never committed) when node and npm are there."""
    if not shutil.which("node") or not shutil.which("npm"):
        print("node/npm not found: skipping the Node ws peer", file=sys.stderr)
        return False
    if not (PEERS / "node_modules" / "ws").is_dir():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=PEERS, check=True,
                       timeout=300)
    return True


async def main(args: argparse.Namespace) -> int:
    sizes = [int(x) for x in args.sizes.split(",")]
    peers = [] if args.peers == "none" else args.peers.split(",")
    if "node" in peers and not ensure_node_peer():
        peers.remove("node")
    tmp = Path(tempfile.mkdtemp(prefix="soak-", dir=ROOT / ".data" if (ROOT / ".data").is_dir() else None))
    keys = tmp / "keys"  # empty: pushd accepts push tickets only, as phones use
    redis = None
    redis_url = args.redis_url
    if not redis_url:
        redis = EmbeddedRedis(tmp / "redis")
        redis_url = redis.start()
    rows: list[dict[str, Any]] = []
    deadline = time.monotonic() + args.budget
    try:
        for n in sizes:
            for kind in ["pushd", *[p for p in peers if n <= args.peer_max]]:
                if time.monotonic() > deadline:
                    print(f"time budget spent: skipping {kind} at n={n}", file=sys.stderr)
                    continue
                print(f"running {kind} n={n} ...", file=sys.stderr, flush=True)
                rows.append(await run_one(kind, n, args, redis_url, keys))
                print(table(rows[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
    finally:
        if redis is not None:
            redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {"machine": {"cores": os.cpu_count(), "host": socket.gethostname()}, "args": vars(args),
              "runs": [{k: v for k, v in r.items() if k != "series"} for r in rows], "ratios": ratios(rows),
              "latency_series": {f"{r['server']}-{r['n']}": r["series"] for r in rows}}
    out = RESULTS / f"{args.name}.json"
    out.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    (RESULTS / f"{args.name}_latency.svg").write_text(svg(rows))
    print(table(rows))
    print()
    for r in result["ratios"]:
        print(f"n={r['n']} vs {r['peer']}: fan-out (CPU/frame) {r['fanout_ratio_pushd_vs_peer']}x, delivered "
              f"{r['delivered_ratio_pushd_vs_peer']}x, p99 peer/pushd {r['p99_ratio_peer_vs_pushd']}x, "
              f"memory pushd/peer {r['memory_ratio_pushd_vs_peer']}x")
    print(f"\nwrote {out}")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,10000", help="socket counts, comma-separated")
    ap.add_argument("--peers", default="node,websockets", help="node,websockets or none")
    ap.add_argument("--peer-max", type=int, default=18000, help="largest N for the one-process peers (fd limit)")
    ap.add_argument("--sports", type=int, default=4, help="sport topics the sockets are spread over")
    ap.add_argument("--frames-per-s", type=int, default=15000, help="offered frames/s in total (sets the rate)")
    ap.add_argument("--seconds", type=float, default=10.0, help="length of the measured steady phase")
    ap.add_argument("--procs", type=int, default=0, help="pushd processes (0: max(2, N/15000))")
    ap.add_argument("--gens", type=int, default=0, help="load generator processes (0: N/6000)")
    ap.add_argument("--concurrency", type=int, default=100, help="handshakes in flight per load generator")
    ap.add_argument("--ready-timeout", type=float, default=180,
                    help="seconds a load generator waits for all its sockets to be subscribed")
    ap.add_argument("--redis-conns", type=int, default=128, help="PUSHD_REDIS_MAX_CONNECTIONS of each pushd")
    ap.add_argument("--budget", type=float, default=540, help="seconds after which no new run starts")
    ap.add_argument("--redis-url", default="", help="use this Redis (default: an embedded one)")
    ap.add_argument("--no-storm", action="store_true", help="skip the reconnect storm")
    ap.add_argument("--name", default="soak", help="results file name under bench/results/")
    ap.add_argument("--smoke", action="store_true", help="200 sockets, 2 s, python peer only (the test suite)")
    args = ap.parse_args(argv)
    if args.smoke:
        args.sizes, args.seconds, args.frames_per_s, args.procs, args.gens = "200", 2.0, 2000, 1, 1
        if args.peers == "node,websockets":
            args.peers = "websockets"
        if args.name == "soak":
            args.name = "soak_smoke"
    return args


if __name__ == "__main__":
    import uvloop

    sys.exit(uvloop.run(main(parse_args())))
