"""Drain on shutdown: every socket gets a jittered reconnect hint, then close 1012; the node leaves."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import aiohttp
import orjson
import redis.asyncio as aioredis

from devtools.devservers import free_port
from tests.conftest import ROOT, TIMEOUT_FACTOR
from tests.helpers import scaled, wait_for
from tests.pushd.conftest import Connect, StartNode, issue_ticket


async def test_drain_sends_reconnect_hints_within_the_window_then_1012(start_node: StartNode,
                                                                        connect: Connect) -> None:
    node = await start_node(drain_window=2.0)
    clients = [await connect(node, user=u) for u in range(1, 11)]
    await node.close()
    for c in clients:
        assert await c.closed() == 1012
        hint = c.ops("reconnect")
        assert len(hint) == 1 and 0 <= hint[0]["after_ms"] <= 2000 and c.frames[-1]["op"] == "reconnect"
    assert len({c.ops("reconnect")[0]["after_ms"] for c in clients}) > 1  # jittered, not one instant


async def test_sigterm_drains_a_real_process_and_exits_zero(push_env: dict[str, str],
                                                            rds: aioredis.Redis) -> None:
    port = free_port()
    env = {**os.environ, **push_env, "PUSHD_PORT": str(port), "PUSHD_DRAIN_WINDOW": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "pushd"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        async with aiohttp.ClientSession() as session:
            async def ready() -> bool:
                try:
                    async with session.get(f"http://127.0.0.1:{port}/readyz") as resp:
                        return resp.status == 200
                except aiohttp.ClientError:
                    return False

            await wait_for(ready, timeout=30, what="pushd ready")
            ws = await session.ws_connect(f"http://127.0.0.1:{port}/ws")
            await ws.send_str(orjson.dumps({"op": "hello", "token": await issue_ticket(rds, 3)}).decode())
            assert orjson.loads((await ws.receive()).data)["op"] == "welcome"
            proc.send_signal(signal.SIGTERM)
            hint = orjson.loads((await ws.receive(timeout=scaled(10))).data)
            assert hint["op"] == "reconnect" and 0 <= hint["after_ms"] <= 1000
            assert (await ws.receive(timeout=scaled(10))).type is aiohttp.WSMsgType.CLOSE and ws.close_code == 1012
        assert proc.wait(timeout=(1 + 5) * TIMEOUT_FACTOR + 5) == 0
        err = proc.stderr.read().decode() if proc.stderr else ""
        assert "Traceback" not in err, err[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
