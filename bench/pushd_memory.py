"""Where a pushd socket's memory goes: tracemalloc snapshots of one node diffed across N sockets.

Starts one pushd node in this process (its own embedded Redis), opens N raw clients that say hello
with a push ticket (its token's expiry armed, as phones send) and subscribe to one sport, then
reports Python-allocated bytes per socket by source file and line, and the RSS growth per socket.
Clients live in this file, so their allocations are left out of the per-file table.

    python bench/pushd_memory.py --sockets 2000
    PYTHONPATH=/tmp/old python bench/pushd_memory.py   # an older pushd (aiohttp's WebSocketResponse)

Writes bench/results/pushd_memory.json and prints the table.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import orjson
import redis.asyncio as aioredis

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.append(str(ROOT))  # appended: an older pushd put first on the path is the one measured
ZERO_MASK = b"\x00\x00\x00\x00"


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Client(asyncio.Protocol):
    """A raw WebSocket client: handshake, hello, one sub; then it only reads."""

    def __init__(self, ticket: str, topic: str, done: asyncio.Future[None]) -> None:
        self.ticket, self.topic, self.done = ticket, topic, done
        self.buf = b""
        self.open = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(b"GET /ws HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"  # type: ignore[attr-defined]
                        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")

    def _send(self, doc: dict[str, Any]) -> None:
        payload = orjson.dumps(doc)
        assert self.transport is not None and len(payload) < 126
        self.transport.write(bytes((0x81, 0x80 | len(payload))) + ZERO_MASK + payload)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if not self.open:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            self.buf, self.open = self.buf[end + 4:], True
            self._send({"op": "hello", "token": self.ticket})
        while len(self.buf) >= 2:
            n, head = self.buf[1] & 0x7F, 2
            if n == 126:
                n, head = int.from_bytes(self.buf[2:4], "big"), 4
            if len(self.buf) < head + n:
                return
            payload, self.buf = self.buf[head:head + n], self.buf[head + n:]
            op = orjson.loads(payload).get("op") if payload[:1] == b"{" else None
            if op == "welcome":
                self._send({"op": "sub", "id": 1, "topics": [self.topic]})
            elif op == "subscribed" and not self.done.done():
                self.done.set_result(None)
            elif op == "error" and not self.done.done():
                self.done.set_exception(RuntimeError(payload.decode()))


async def open_clients(port: int, tickets: list[str], topic: str) -> list[asyncio.Transport]:
    loop = asyncio.get_running_loop()
    out: list[asyncio.Transport] = []
    sem = asyncio.Semaphore(100)

    async def one(ticket: str) -> None:
        async with sem:
            done: asyncio.Future[None] = loop.create_future()
            t, _ = await loop.create_connection(lambda: Client(ticket, topic, done), "127.0.0.1", port)
            out.append(t)
            await asyncio.wait_for(done, 60)

    await asyncio.gather(*(one(t) for t in tickets))
    return out


async def start_node(redis_url: str, keys: Path) -> tuple[Any, int]:
    from pushd.app import create_app
    from pushd.config import PushSettings
    from shared.config import load
    from shared.service import start_server
    from shared.web import bound_port

    settings = load(PushSettings, {"REDIS_URL": redis_url, "AUTH_KEYS_DIR": str(keys), "LOG_LEVEL": "WARNING"},
                    port=0, node_id="mem", max_conns_per_ip=0, hello_timeout=60, ping_interval=120)
    kwargs: dict[str, Any] = {}
    try:
        from pushd.front import PushRunner
        kwargs["runner_cls"] = PushRunner
        kind = "pushd.front"
    except ImportError:  # an older pushd: aiohttp's WebSocketResponse
        kind = "aiohttp WebSocketResponse"
    runner = await start_server(create_app(settings), "127.0.0.1", 0, settings.conn_limits(), **kwargs)
    return (runner, kind), bound_port(runner)


def by_file(diff: list[tracemalloc.StatisticDiff], n: int, top: int) -> list[dict[str, Any]]:
    rows = [d for d in diff if not _ours(d.traceback[0].filename)]
    return [{"where": f"{_short(d.traceback[0].filename)}:{d.traceback[0].lineno}",
             "bytes_per_socket": round(d.size_diff / n), "objects_per_socket": round(d.count_diff / n, 2)}
            for d in rows[:top]]


def _ours(path: str) -> bool:
    """True for this file (the clients), however it was run."""
    return Path(path).name == Path(__file__).name


def _short(path: str) -> str:
    for mark in ("site-packages/", "/lib/python3", str(ROOT) + "/"):
        if mark in path:
            return path.split(mark, 1)[1]
    return path


async def main(args: argparse.Namespace) -> int:
    from devtools.devservers import EmbeddedRedis
    from shared import pushticket

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    tmp = Path(tempfile.mkdtemp(prefix="pushd-mem-"))
    redis = EmbeddedRedis(tmp / "redis")
    redis_url = redis.start()
    r = aioredis.Redis.from_url(redis_url)
    try:
        sport = "memsport"
        await r.xadd(f"odds:{sport}", {"v": "1", "ts": "0", "trace": "", "changes": "[]"})
        await r.hset(f"snap:{sport}", mapping={"_epoch": "mem", "_offset": "0-1"})
        exp = int(time.time()) + 3600
        tickets = [await pushticket.issue(r, user_id=1 + i % 500, role="player", agent_id=None, ttl=600,
                                          jti=f"mem-{i}", token_exp=exp) for i in range(args.sockets + 50)]
        (runner, kind), port = await start_node(redis_url, tmp / "keys")
        await open_clients(port, tickets[:50], f"sport:{sport}")  # warm up caches, pools and code paths
        gc.collect()
        tracemalloc.start(1)
        snap0, rss0 = tracemalloc.take_snapshot(), rss_kb()
        held = await open_clients(port, tickets[50:], f"sport:{sport}")
        await asyncio.sleep(0.5)
        gc.collect()
        snap1, rss1 = tracemalloc.take_snapshot(), rss_kb()
        diff = snap1.compare_to(snap0, "lineno")
        traced = sum(d.size_diff for d in diff)
        clients = sum(d.size_diff for d in diff if _ours(d.traceback[0].filename))
        n = len(held)
        files: dict[str, int] = {}
        for d in snap1.compare_to(snap0, "filename"):
            if not _ours(d.traceback[0].filename):
                files[_short(d.traceback[0].filename)] = round(d.size_diff / n)
        result = {
            "server": kind, "sockets": n, "python": sys.version.split()[0],
            "rss_kb_per_socket_both_ends": round((rss1 - rss0) / n, 2),
            "traced_server_bytes_per_socket": round((traced - clients) / n),
            "traced_client_bytes_per_socket": round(clients / n),
            "by_file": dict(sorted(files.items(), key=lambda kv: -kv[1])[:12]),
            "by_line": by_file(diff, n, args.top),
        }
        tracemalloc.stop()
        for t in held:
            t.abort()
        await runner.cleanup()
    finally:
        await r.aclose()
        redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{args.name}.json"
    out.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    print(f"{kind}: {result['traced_server_bytes_per_socket']} B/socket traced in the server "
          f"(RSS of server and clients together: {result['rss_kb_per_socket_both_ends']} KB/socket)")
    for f, b in result["by_file"].items():
        print(f"  {b:>7} B  {f}")
    print("top lines:")
    for row in result["by_line"]:
        print(f"  {row['bytes_per_socket']:>7} B  {row['objects_per_socket']:>6} obj  {row['where']}")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    import uvloop

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sockets", type=int, default=2000)
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--name", default="pushd_memory")
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(uvloop.run(main(ap.parse_args())))
