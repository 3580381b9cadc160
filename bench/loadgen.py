"""Load generator of bench/soak.py: one process holding many raw WebSocket clients (loopback only).

Run by soak.py as ``python bench/loadgen.py '<json config>'``; talks to it with JSON lines on
stdin/stdout: it prints ``ready`` once every socket is subscribed, then answers ``go`` (start
counting), ``stop`` (report frames and latency samples), ``storm`` (drop the tracked 10% at once,
reconnect them with ``since`` and report how long until all resumed and whether any gap showed)
and ``quit``. Clients are asyncio Protocols that parse only frame headers, except the tracked
sockets (every 10th), which parse every frame to measure latency and check sequence continuity.
"""

from __future__ import annotations

import asyncio
import os
import resource
import struct
import sys
import time
from typing import Any

import orjson
import uvloop

ZERO_MASK = b"\x00\x00\x00\x00"  # a valid mask key that leaves the payload as it is: cheap to send


def masked(payload: bytes, opcode: int = 0x1) -> bytes:
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    else:
        head = struct.pack("!BBH", 0x80 | opcode, 0xFE, n)
    return head + ZERO_MASK + payload


class Gen:
    """Counters shared by every client of this process."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.frames = 0
        self.measuring = False
        self.t0 = 0.0
        self.lat: list[tuple[float, float]] = []
        self.gaps = 0
        self.closes: dict[str, int] = {}
        self.ready = 0
        self.failed = 0
        self.resumed = 0
        self.recovered = 0
        self.snapshots = 0
        self.ticket_n = 0
        self.all_ready = asyncio.Event()
        self.storm_done = asyncio.Event()
        self.storm_left = 0
        self.resumed_at: list[float] = []

    def ticket(self) -> str:
        self.ticket_n += 1
        return f"pt_soak_{self.cfg['run']}_{self.cfg['gen']}_{self.ticket_n}"


class Client(asyncio.Protocol):
    """One raw WebSocket client."""

    __slots__ = ("gen", "topic", "tracked", "transport", "buf", "open", "ready", "last_seq", "offset",
                 "epoch", "resuming", "waiter")

    def __init__(self, gen: Gen, topic: str, tracked: bool, resume: Client | None = None) -> None:
        self.gen = gen
        self.topic = topic
        self.tracked = tracked
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.open = False
        self.ready = False
        self.last_seq: int | None = resume.last_seq if resume else None
        self.offset: str | None = resume.offset if resume else None
        self.epoch: str = resume.epoch if resume else ""
        self.resuming = resume is not None
        self.waiter: asyncio.Future[None] | None = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's TCPTransport
        host = self.gen.cfg["host"]
        transport.write((f"GET /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready:
            self.gen.failed += 1
            self._settle()

    def send(self, doc: dict[str, Any]) -> None:
        assert self.transport is not None
        self.transport.write(masked(orjson.dumps(doc)))

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if not self.open:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                assert self.transport is not None
                self.transport.abort()
                return
            del buf[:end + 4]
            self.open = True
            self.send({"op": "hello", "token": self.gen.ticket()})
        while len(buf) >= 2:
            n = buf[1] & 0x7F
            hl = 2
            if n == 126:
                if len(buf) < 4:
                    return
                n = (buf[2] << 8) | buf[3]
                hl = 4
            elif n == 127:
                if len(buf) < 10:
                    return
                n = struct.unpack_from("!Q", buf, 2)[0]
                hl = 10
            if len(buf) < hl + n:
                return
            opcode = buf[0] & 0x0F
            if self.ready and not self.tracked and opcode == 1:
                del buf[:hl + n]  # an untracked data frame: count it, never parse it
                if self.gen.measuring:
                    self.gen.frames += 1
                continue
            payload = bytes(buf[hl:hl + n])
            del buf[:hl + n]
            self.frame(opcode, payload)

    def frame(self, opcode: int, payload: bytes) -> None:
        if opcode == 0x8:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            self.gen.closes[str(code)] = self.gen.closes.get(str(code), 0) + 1
            return
        if opcode == 0x9:
            assert self.transport is not None
            self.transport.write(masked(payload, 0xA))
            return
        if opcode != 0x1:
            return
        doc = orjson.loads(payload)
        op = doc.get("op")
        if op == "odds":
            if self.gen.measuring:
                self.gen.frames += 1
            self.offset = doc["offset"]
            seq = doc["changes"][0]["price"]
            if self.last_seq is not None and seq != self.last_seq + 1:
                self.gen.gaps += 1
            self.last_seq = seq
            if self.gen.measuring:
                now = time.time()
                self.gen.lat.append((now - self.gen.t0, now * 1000 - doc["changes"][0]["t"]))
        elif op == "welcome":
            sub: dict[str, Any] = {"op": "sub", "id": 1, "topics": [self.topic]}
            if self.resuming and self.offset:
                sub["since"] = {self.topic: {"epoch": self.epoch, "offset": self.offset}}
            self.send(sub)
        elif op == "snapshot":
            self.offset, self.epoch = doc["offset"], doc.get("epoch", "")
            if self.resuming:
                self.gen.snapshots += 1
                self.last_seq = None  # cannot check continuity across a snapshot
        elif op == "subscribed":
            self.epoch = (doc.get("epochs") or {}).get(self.topic, self.epoch)
            self.ready = True
            if self.resuming:
                self.gen.resumed += 1
                self.gen.resumed_at.append(time.monotonic())
                self.gen.recovered += bool((doc.get("recovered") or {}).get(self.topic))
            else:
                self.gen.ready += 1
            self._settle()
        elif op == "error":
            print(orjson.dumps({"event": "error", "doc": doc}).decode(), file=sys.stderr)

    def _settle(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)
        self.waiter = None
        g = self.gen
        if self.resuming:
            g.storm_left -= 1
            if g.storm_left <= 0:
                g.storm_done.set()
        elif g.ready + g.failed >= g.cfg["n"]:
            g.all_ready.set()


async def open_client(gen: Gen, topic: str, tracked: bool, resume: Client | None = None) -> Client:
    loop = asyncio.get_running_loop()
    cfg = gen.cfg
    _, proto = await loop.create_connection(lambda: Client(gen, topic, tracked, resume), cfg["host"], cfg["port"],
                                            local_addr=(cfg["src"], 0))
    return proto


async def main(cfg: dict[str, Any]) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    gen = Gen(cfg)
    clients: list[Client] = []
    sem = asyncio.Semaphore(cfg.get("concurrency", 100))

    async def one(i: int) -> None:
        async with sem:
            topic = cfg["topics"][(cfg["gen"] + i) % len(cfg["topics"])]
            try:
                client = await open_client(gen, topic, tracked=i % 10 == 0)
            except OSError:
                gen.failed += 1
                if gen.ready + gen.failed >= cfg["n"]:
                    gen.all_ready.set()
                return
            clients.append(client)
            if client.waiter is not None:  # hold the slot until subscribed: bounded handshakes in flight
                try:
                    await asyncio.wait_for(asyncio.shield(client.waiter), 30)
                except TimeoutError:
                    pass

    started = time.monotonic()
    await asyncio.gather(*(one(i) for i in range(cfg["n"])))
    try:
        await asyncio.wait_for(gen.all_ready.wait(), cfg.get("ready_timeout", 120))
    except TimeoutError:
        pass
    out({"event": "ready", "ready": gen.ready, "failed": gen.failed, "seconds": time.monotonic() - started})
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = (await reader.readline()).decode().strip()
        if line in ("quit", ""):
            break
        if line == "go":
            gen.frames, gen.lat, gen.gaps = 0, [], 0
            gen.t0 = time.time()
            gen.measuring = True
            out({"event": "going"})
        elif line == "stop":
            gen.measuring = False
            out({"event": "stats", "frames": gen.frames, "seconds": time.time() - gen.t0, "gaps": gen.gaps,
                 "closes": gen.closes, "lat": gen.lat[:: max(1, len(gen.lat) // 20000)]})
        elif line == "storm":
            await storm(gen, clients)
    for c in clients:
        if c.transport is not None:
            c.transport.abort()


async def storm(gen: Gen, clients: list[Client]) -> None:
    """Drop every tracked socket at once and reconnect each with ``since``; time until all resumed."""
    dropped = [c for c in clients if c.tracked and c.ready and c.transport is not None]
    gen.storm_left = len(dropped)
    gen.storm_done.clear()
    gen.resumed = gen.recovered = gen.snapshots = 0
    gen.resumed_at = []
    gaps_before = gen.gaps
    start = time.monotonic()
    for c in dropped:
        assert c.transport is not None
        c.ready = True  # its connection_lost is not a failed start
        c.transport.abort()
    fresh = await asyncio.gather(*(open_client(gen, c.topic, True, resume=c) for c in dropped),
                                 return_exceptions=True)
    for f, old in zip(fresh, dropped, strict=True):
        if isinstance(f, Client):
            clients[clients.index(old)] = f
        else:
            gen.storm_left -= 1
    if gen.storm_left > 0:
        try:
            await asyncio.wait_for(gen.storm_done.wait(), 60)
        except TimeoutError:
            pass
    elapsed = time.monotonic() - start
    await asyncio.sleep(1.0)  # let replayed and live frames arrive before counting gaps
    took = sorted(t - start for t in gen.resumed_at)
    out({"event": "storm", "took": took[:: max(1, len(took) // 2000)],
         "dropped": len(dropped), "resumed": gen.resumed, "recovered": gen.recovered,
         "snapshots": gen.snapshots, "seconds": elapsed, "gaps": gen.gaps - gaps_before})


def out(doc: dict[str, Any]) -> None:
    sys.stdout.write(orjson.dumps(doc).decode() + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    uvloop.run(main(orjson.loads(sys.argv[1])))
