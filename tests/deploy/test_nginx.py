"""The TLS front door (deploy/nginx) with real nginx: HTTPS with the security headers once each, HTTP to
HTTPS, compression, a WebSocket subscription through it, and a REST node removed without a client error."""

from __future__ import annotations

import asyncio
import ssl
import time
from pathlib import Path

import aiohttp
import orjson
import redis.asyncio as aioredis

from devtools.devservers import free_port
from shared import pushticket, streams
from tests.deploy.frontdoor import FrontDoor, throwaway_cert
from tests.deploy.helpers import env_with, service
from tests.helpers import wait_for

HEADERS = ("Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy",
           "Permissions-Policy", "Content-Security-Policy")


async def _front_door_up(session: aiohttp.ClientSession, base: str) -> bool:
    try:
        async with session.get(f"{base}/healthz") as r:
            return r.status == 200
    except aiohttp.ClientError:
        return False


async def test_the_front_door_serves_rest_pages_and_websocket_over_tls_and_survives_a_node_leaving(
        base_env: dict[str, str], redis_url: str, tmp_path: Path) -> None:
    rest_ports, push_port = [free_port(), free_port()], free_port()
    door = FrontDoor(tmp_path, free_port(), free_port(), throwaway_cert(tmp_path)[0])
    rests = [service("restapi", p, env_with(base_env, RESTAPI_PORT=str(p), TRUSTED_PROXIES="127.0.0.1",
                                            RESTAPI_PUSH_URL=f"wss://127.0.0.1:{door.https_port}/ws"),
                     tmp_path / f"rest{p}.log") for p in rest_ports]
    push = service("pushd", push_port, env_with(base_env, PUSHD_PORT=str(push_port), PUSHD_RESCAN_INTERVAL="0.2"),
                   tmp_path / "push.log")
    tls = ssl.create_default_context(cafile=str(door.cert))
    r = aioredis.Redis.from_url(redis_url)
    try:
        await asyncio.gather(*(p.start() for p in [*rests, push]))
        door.render(rest_ports, [push_port])
        door.start()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=tls)) as session:
            await wait_for(lambda: _front_door_up(session, door.base), 20, "nginx answering over TLS")

            # HTTP is redirected to HTTPS.
            async with session.get(f"http://127.0.0.1:{door.http_port}/sports?x=1", allow_redirects=False) as resp:
                assert resp.status == 301
                assert resp.headers["Location"] == f"https://127.0.0.1:{door.https_port}/sports?x=1"

            # A page and the API over TLS, each security header exactly once; JSON compressed.
            async with session.get(f"{door.base}/login") as resp:
                assert resp.status == 200 and "text/html" in resp.headers["Content-Type"]
                for name in HEADERS:
                    assert len(resp.headers.getall(name, [])) == 1, name
                assert "max-age=" in resp.headers["Strict-Transport-Security"]
                assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
            async with session.get(f"{door.base}/docs/openapi.json", headers={"Accept-Encoding": "gzip"},
                                   auto_decompress=False) as resp:
                assert resp.status == 200 and resp.headers.get("Content-Encoding") == "gzip"
                for name in HEADERS:
                    assert len(resp.headers.getall(name, [])) == 1, name
            async with session.get(f"{door.base}/metrics") as resp:
                assert resp.status == 404  # process metrics stay off the internet
            async with session.post(f"{door.base}/api/v1/auth/login", json={"login": "nobody", "password": "x" * 12,
                                                                            "device": ""}) as resp:
                body = await resp.json()
                assert resp.status == 401 and set(body) == {"error", "message", "details"}

            # A WebSocket subscription through the front door receives a live odds frame.
            ticket = await pushticket.issue(r, user_id=7, role="player", agent_id=2, ttl=30)
            await r.xadd(streams.odds_stream("basketball_nba"), streams.encode_odds([]))
            await r.hset(streams.snap_key("basketball_nba"), mapping={streams.SNAP_EPOCH: "ep1"})
            async with session.ws_connect(f"wss://127.0.0.1:{door.https_port}/ws") as ws:
                await ws.send_str(orjson.dumps({"op": "hello", "token": ticket}).decode())
                assert orjson.loads((await ws.receive(timeout=10)).data)["op"] == "welcome"
                await ws.send_str(orjson.dumps({"op": "sub", "id": 1, "topics": ["sport:basketball_nba"]}).decode())
                frames: list[dict[str, object]] = []
                while not any(f["op"] == "subscribed" for f in frames):
                    frames.append(orjson.loads((await ws.receive(timeout=10)).data))
                change = {"event": "e1", "book": "dk", "market": "h2h", "outcome": "Boston Celtics", "price": -120,
                          "point": None, "t": int(time.time() * 1000)}
                offset = (await r.xadd(streams.odds_stream("basketball_nba"), streams.encode_odds([change]))).decode()
                while True:
                    frame = orjson.loads((await ws.receive(timeout=10)).data)
                    if frame["op"] == "odds":
                        break
                assert frame["offset"] == offset and frame["changes"] == [change]

            # One REST node leaves (SIGTERM) in the middle of traffic: no client sees an error.
            statuses: list[int] = []
            done = asyncio.Event()

            async def traffic() -> None:
                while not done.is_set():
                    async with session.get(f"{door.base}/healthz") as resp:
                        statuses.append(resp.status)

            load = asyncio.gather(*(traffic() for _ in range(4)))
            await wait_for(lambda: len(statuses) >= 40, 20, "traffic flowing")
            before = len(statuses)
            await asyncio.to_thread(rests[0].stop)  # returns once the node has exited
            during = len(statuses) - before
            after = len(statuses)
            await wait_for(lambda: len(statuses) >= after + 100, 20, "traffic after the node left")
            done.set()
            await load
            assert during > 0, "no request overlapped the node's shutdown"
            assert set(statuses) == {200}, sorted(set(statuses))
    finally:
        await r.aclose()
        door.stop()
        for p in [*rests, push]:
            p.stop()
