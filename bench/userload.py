"""One load-generator process of bench/users.py: a share of the players and agents, as phones and browsers.

    python bench/userload.py '<config JSON>'     (started by bench/users.py, never by hand)

A player holds one WebSocket on pushd subscribed to 2-3 leagues (a push ticket from restapi first),
loads the sidebar, a league's odds and one event every think interval, edits the slip (adds a
selection, reads the slip), and every bet interval places a straight bet with an Idempotency-Key
(retrying a timeout, a dropped connection or a 5xx with the same key, as a client does), empties the
slip and reads its history. An agent loads its dashboard, customer list and customer report every
agent interval. All intervals are divided by ``compress``.

Talks JSON lines on stdout: ``ready`` once every socket holds its subscription, then (after ``go`` on
stdin and ``seconds`` of load, and once every bet in flight is answered for good) ``stats``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shared.tokens import KeyRing, access_claims  # noqa: E402

ODDS_PREFIX = '{"op":"odds"'
OFFSET_MARK = '"offset":"'
RETRYABLE = frozenset({500, 502, 503, 504})
BET_ATTEMPTS = 8
ALWAYS = frozenset({"auth/push-ticket"})  # recorded in the connect phase too: most are bought there


class Stats:
    """Latency histograms (0.1 ms buckets) and answers by status, per endpoint; WebSocket delays."""

    def __init__(self) -> None:
        self.hist: dict[str, dict[int, int]] = {}
        self.status: dict[str, dict[str, int]] = {}
        self.codes: dict[str, dict[str, int]] = {}  # endpoint -> error code of a 4xx -> count
        self.ws_hist: dict[int, int] = {}  # ingest (stream entry id) to client, 1 ms buckets
        self.ws_frames = 0
        self.ws_snapshots = 0
        self.ws_drops = 0
        self.bets: list[tuple[int, str, int]] = []  # (user, key, bet id) answered 201/200
        self.bets_unanswered: list[tuple[int, str]] = []
        self.bet_retries = 0
        self.recording = False

    def record(self, endpoint: str, status: str, seconds: float, body: bytes = b"") -> None:
        if not self.recording and endpoint not in ALWAYS:
            return
        h = self.hist.setdefault(endpoint, {})
        b = int(seconds * 10_000)
        h[b] = h.get(b, 0) + 1
        s = self.status.setdefault(endpoint, {})
        s[status] = s.get(status, 0) + 1
        if status.isdigit() and int(status) >= 400:
            code = "?"
            with contextlib.suppress(orjson.JSONDecodeError, AttributeError, TypeError):
                code = str(orjson.loads(body).get("error", "?"))
            c = self.codes.setdefault(endpoint, {})
            c[f"{status} {code}"] = c.get(f"{status} {code}", 0) + 1

    def json(self) -> dict[str, Any]:
        return {"event": "stats", "hist": {k: list(v.items()) for k, v in self.hist.items()},
                "status": self.status, "codes": self.codes, "ws_hist": list(self.ws_hist.items()),
                "ws_frames": self.ws_frames, "ws_snapshots": self.ws_snapshots, "ws_drops": self.ws_drops,
                "bets": self.bets, "bets_unanswered": self.bets_unanswered, "bet_retries": self.bet_retries}


class Client:
    """One person's HTTP calls: a bearer token, timing and status recording per endpoint."""

    def __init__(self, http: aiohttp.ClientSession, base: str, token: str, stats: Stats) -> None:
        self.http, self.base, self.stats = http, base, stats
        self.headers = {"Authorization": f"Bearer {token}"}

    async def call(self, endpoint: str, method: str, path: str, *, params: dict[str, str] | None = None,
                   body: Any = None, headers: dict[str, str] | None = None) -> tuple[str, bytes]:
        """One request; returns (status or exception name, body). Never raises for a network error."""
        hdrs = {**self.headers, **(headers or {})}
        data = None
        if body is not None:
            data = orjson.dumps(body)
            hdrs["Content-Type"] = "application/json"
        t0 = time.perf_counter()
        try:
            async with self.http.request(method, self.base + path, params=params, data=data, headers=hdrs) as resp:
                payload = await resp.read()
                status = str(resp.status)
        except (aiohttp.ClientError, TimeoutError) as exc:
            status, payload = type(exc).__name__, b""
        self.stats.record(endpoint, status, time.perf_counter() - t0, payload)
        return status, payload


def pick_selection(rng: random.Random, event: dict[str, Any]) -> dict[str, Any] | None:
    """A bettable price of ``event`` (open market; live only where live-bettable), or None."""
    markets = event.get("markets") or {}
    live = event.get("status") == "live"
    choices = []
    for bm in event.get("bookmakers") or []:
        for mk in bm["markets"]:
            flags = markets.get(mk["key"]) or {}
            if not flags.get("open") or (live and not flags.get("live_bettable")):
                continue
            for oc in mk["outcomes"]:
                choices.append({"event_id": event["id"], "market": mk["key"], "outcome": oc["name"],
                                "point": oc["point"], "book": bm["key"], "price": oc["price"]})
    return rng.choice(choices) if choices else None


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds`` unless ``stop`` is set first; True when stopped."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()


class Player:
    """A player: a socket on 2-3 leagues, browsing, a slip, a bet now and then, its history."""

    def __init__(self, cfg: dict[str, Any], user: int, token: str, http: aiohttp.ClientSession,
                 stats: Stats) -> None:
        self.cfg, self.user, self.stats = cfg, user, stats
        self.rng = random.Random(user)
        self.api = Client(http, cfg["rest"], token, stats)
        self.leagues = self.rng.sample(cfg["leagues"], self.rng.randint(2, min(3, len(cfg["leagues"]))))
        self.subscribed = asyncio.Event()
        self.event: dict[str, Any] | None = None
        self.in_flight: set[asyncio.Task[None]] = set()

    async def socket(self, stop: asyncio.Event, ws_session: aiohttp.ClientSession) -> None:
        """Hold the socket; on a drop, reconnect with a new ticket (counted; no resume bookkeeping here)."""
        while not stop.is_set():
            status, body = await self.api.call("auth/push-ticket", "POST", "/api/v1/auth/push-ticket")
            if status != "200":
                if await wait_or_stop(stop, 1.0):
                    return
                continue
            ticket = orjson.loads(body)["ticket"]
            try:
                async with ws_session.ws_connect(self.cfg["push"], heartbeat=None, max_msg_size=0) as ws:
                    await ws.send_str(orjson.dumps({"op": "hello", "token": ticket}).decode())
                    await ws.send_str(orjson.dumps({"op": "sub", "id": 1, "topics":
                                                    [f"sport:{lg}" for lg in self.leagues]}).decode())
                    async for msg in ws:
                        if msg.type is not aiohttp.WSMsgType.TEXT:
                            continue
                        data: str = msg.data
                        if data.startswith(ODDS_PREFIX):
                            at = data.find(OFFSET_MARK) + len(OFFSET_MARK)
                            sent_ms = int(data[at:data.index("-", at)])
                            if self.stats.recording:
                                b = max(0, int(time.time() * 1000) - sent_ms)
                                self.stats.ws_hist[b] = self.stats.ws_hist.get(b, 0) + 1
                                self.stats.ws_frames += 1
                        elif data.startswith('{"op":"snapshot"'):
                            self.stats.ws_snapshots += 1
                            self.subscribed.set()
                        elif data.startswith('{"op":"subscribed"'):
                            self.subscribed.set()
            except (aiohttp.ClientError, OSError, TimeoutError):
                pass
            if stop.is_set():
                return
            self.stats.ws_drops += 1
            if await wait_or_stop(stop, 0.5 + self.rng.random()):
                return

    async def browse(self, stop: asyncio.Event) -> None:
        """Sidebar, a league's odds and an event every think interval; sometimes a slip edit."""
        lo, hi = self.cfg["think"]
        if await wait_or_stop(stop, self.rng.uniform(0, hi)):  # spread the users' first visits
            return
        while not stop.is_set():
            await self.api.call("shared/sidebar", "GET", "/api/v1/shared/sidebar")
            league = self.rng.choice(self.leagues)
            status, body = await self.api.call("betting/odds", "GET", "/api/v1/betting/odds",
                                               params={"league": league})
            events = orjson.loads(body)["events"] if status == "200" else []
            if events:
                ev = self.rng.choice(events)
                status, body = await self.api.call("betting/events/{id}", "GET", f"/api/v1/betting/events/{ev['id']}")
                if status == "200":
                    self.event = orjson.loads(body)
            if self.event is not None and self.rng.random() < self.cfg["slip_share"]:
                sel = pick_selection(self.rng, self.event)
                if sel is not None:
                    await self.api.call("betting/slip/selections", "POST", "/api/v1/betting/slip/selections",
                                        body={k: v for k, v in sel.items() if k != "price"})
                    await self.api.call("betting/slip", "GET", "/api/v1/betting/slip")
            if await wait_or_stop(stop, self.rng.uniform(lo, hi)):
                return

    async def bets(self, stop: asyncio.Event) -> None:
        """A straight bet every bet interval, then the slip emptied and the history read."""
        lo, hi = self.cfg["bet_every"]
        if await wait_or_stop(stop, self.rng.uniform(0, hi)):
            return
        while not stop.is_set():
            sel = pick_selection(self.rng, self.event) if self.event is not None else None
            if sel is None:  # nothing seen yet to bet on: look again after a browse
                if await wait_or_stop(stop, self.rng.uniform(*self.cfg["think"])):
                    return
                continue
            body = {"type": "straight", "stake_cents": self.rng.choice([500, 1000, 2500]), "selections": [sel]}
            # Shielded from the stop: a bet once sent is followed until it is answered for good.
            task = asyncio.create_task(self.place(body))
            self.in_flight.add(task)
            task.add_done_callback(self.in_flight.discard)
            await asyncio.shield(task)
            await self.api.call("betting/slip DELETE", "DELETE", "/api/v1/betting/slip")
            await self.api.call("betting/bets GET", "GET", "/api/v1/betting/bets", params={"limit": "20"})
            if await wait_or_stop(stop, self.rng.uniform(lo, hi)):
                return

    async def place(self, body: dict[str, Any]) -> None:
        """POST the bet; the same Idempotency-Key again after a timeout, a network error or a 5xx."""
        key = uuid.uuid4().hex
        for attempt in range(BET_ATTEMPTS):
            status, payload = await self.api.call("betting/bets POST", "POST", "/api/v1/betting/bets", body=body,
                                                  headers={"Idempotency-Key": key})
            if status in ("200", "201"):
                self.stats.bets.append((self.user, key, int(orjson.loads(payload)["id"])))
                return
            if status.isdigit() and int(status) not in RETRYABLE:
                return  # answered for good (a refusal): nothing was placed
            self.stats.bet_retries += 1
            await asyncio.sleep(min(4.0, 0.2 * 2 ** attempt) * (0.5 + self.rng.random()))
        self.stats.bets_unanswered.append((self.user, key))


async def agent_loop(cfg: dict[str, Any], api: Client, rng: random.Random, stop: asyncio.Event) -> None:
    """Dashboard, customer list and the customer report every agent interval."""
    every = cfg["agent_every"]
    if await wait_or_stop(stop, rng.uniform(0, every)):
        return
    while not stop.is_set():
        await api.call("agent/dashboard", "GET", "/api/v1/agent/dashboard")
        await api.call("agent/clients", "GET", "/api/v1/agent/clients", params={"limit": "50"})
        await api.call("agent/reports/customers", "GET", "/api/v1/agent/reports/customers")
        if await wait_or_stop(stop, every * rng.uniform(0.9, 1.1)):
            return


async def main(cfg: dict[str, Any]) -> None:
    ring = KeyRing.load(Path(cfg["keys"]))
    stats = Stats()
    stop = asyncio.Event()
    timeout = aiohttp.ClientTimeout(total=cfg["request_timeout"])
    conn = aiohttp.TCPConnector(limit=cfg["http_conns"], local_addr=(cfg["src"], 0))
    ws_conn = aiohttp.TCPConnector(limit=0, local_addr=(cfg["src"], 0))
    async with aiohttp.ClientSession(connector=conn, timeout=timeout) as http, \
            aiohttp.ClientSession(connector=ws_conn) as ws_session:
        players = [Player(cfg, uid, ring.sign(access_claims(uid, "player", agent, ttl=86400)), http, stats)
                   for uid, agent in cfg["players"]]
        sockets = []
        sem = asyncio.Semaphore(cfg["connect_concurrency"])

        async def open_socket(p: Player) -> None:
            async with sem:
                sockets.append(asyncio.create_task(p.socket(stop, ws_session)))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(p.subscribed.wait(), cfg["ready_timeout"])

        await asyncio.gather(*(open_socket(p) for p in players))
        ready = sum(p.subscribed.is_set() for p in players)
        print(orjson.dumps({"event": "ready", "ready": ready}).decode(), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # "go"
        stats.recording = True
        tasks = [asyncio.create_task(p.browse(stop)) for p in players]
        tasks += [asyncio.create_task(p.bets(stop)) for p in players]
        for uid in cfg["agents"]:
            api = Client(http, cfg["rest"], ring.sign(access_claims(uid, "agent", None, ttl=86400)), stats)
            tasks.append(asyncio.create_task(agent_loop(cfg, api, random.Random(uid), stop)))
        await asyncio.sleep(cfg["seconds"])
        stop.set()
        await asyncio.gather(*tasks)
        in_flight = [t for p in players for t in p.in_flight]
        await asyncio.gather(*in_flight)  # every bet sent is answered for good before the stats
        stats.recording = False
        for t in sockets:
            t.cancel()
        await asyncio.gather(*sockets, return_exceptions=True)
    print(orjson.dumps(stats.json()).decode(), flush=True)


if __name__ == "__main__":
    import uvloop

    uvloop.run(main(orjson.loads(sys.argv[1])))
