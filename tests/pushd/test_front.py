"""pushd's front door (``pushd.front``): sockets on one lean protocol, every other request to aiohttp."""

from __future__ import annotations

import asyncio
import os
import struct

import aiohttp
import orjson
import redis.asyncio as aioredis

from pushd import wsproto as w
from pushd.front import FrontServer
from pushd.keys import NODE
from tests.helpers import scaled, wait_for
from tests.pushd.conftest import Connect, StartNode, change, issue_ticket, publish
from tests.pushd.rawws import RawWS


def _frame(payload: bytes, opcode: int = w.OP_TEXT, fin: bool = True, masked: bool = True) -> bytes:
    mask = os.urandom(4) if masked else b""
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if masked else payload
    return bytes(((0x80 if fin else 0) | opcode, (0x80 if masked else 0) | len(payload))) + mask + body


async def _hello(rds: aioredis.Redis, raw: RawWS, user: int = 1) -> None:
    raw.send({"op": "hello", "token": await issue_ticket(rds, user)})
    assert (await raw.json())["op"] == "welcome"


async def test_a_message_in_fragments_is_put_together(start_node: StartNode, rds: aioredis.Redis) -> None:
    node = await start_node()
    raw = await RawWS.connect(node.host, node.port)
    await _hello(rds, raw)
    msg = b'{"op": "ping", "id": "in-three-parts"}'
    raw.writer.write(_frame(msg[:5], fin=False) + _frame(msg[5:20], w.OP_CONT, fin=False)
                     + _frame(b"ping me", w.OP_PING) + _frame(msg[20:], w.OP_CONT))
    assert await raw.frame() == (w.OP_PONG, b"ping me")  # a control frame may come between fragments
    assert await raw.json() == {"op": "pong", "id": "in-three-parts"}
    raw.abort()


async def test_an_unmasked_client_frame_closes_1002(start_node: StartNode, rds: aioredis.Redis) -> None:
    node = await start_node()
    raw = await RawWS.connect(node.host, node.port)
    await _hello(rds, raw)
    raw.writer.write(_frame(b'{"op": "ping"}', masked=False))
    assert await asyncio.wait_for(raw.close_code(), scaled(5)) == 1002
    await wait_for(lambda: not node.app[NODE].hub.conns, what="the socket is forgotten")


async def test_the_client_closing_gets_its_code_back_and_is_forgotten(start_node: StartNode,
                                                                       connect: Connect) -> None:
    node = await start_node()
    client = await connect(node)
    assert len(node.app[NODE].hub.conns) == 1
    await client.ws.close(code=4321, message=b"bye")
    assert client.ws.close_code == 4321
    await wait_for(lambda: not node.app[NODE].hub.conns, what="the socket is forgotten")


async def test_http_and_a_later_upgrade_from_one_client_session_both_work(start_node: StartNode,
                                                                          rds: aioredis.Redis) -> None:
    """Plain answers close their connection, so the client's next request (an upgrade) reaches the front door."""
    node = await start_node()
    async with aiohttp.ClientSession() as session:
        async with session.get(node.make_url("/healthz")) as resp:
            assert resp.status == 200 and resp.headers["Connection"] == "close"
        async with session.get(node.make_url("/ws")) as resp:  # no upgrade: aiohttp's JSON error
            assert resp.status == 400 and (await resp.json())["error"] == "bad_request"
        async with session.ws_connect(node.make_url("/ws")) as ws:
            await ws.send_str(orjson.dumps({"op": "hello", "token": await issue_ticket(rds, 1)}).decode())
            assert orjson.loads((await ws.receive(timeout=scaled(5))).data)["op"] == "welcome"


async def test_a_draining_node_refuses_upgrades_with_503(start_node: StartNode) -> None:
    node = await start_node()
    node.app[NODE].draining = True
    async with aiohttp.ClientSession() as session:
        try:
            await session.ws_connect(node.make_url("/ws"))
            raise AssertionError("upgrade accepted while draining")
        except aiohttp.WSServerHandshakeError as exc:
            assert exc.status == 503


async def test_open_sockets_hold_no_task_of_their_own(start_node: StartNode, connect: Connect,
                                                      rds: aioredis.Redis) -> None:
    """Idle subscribed sockets cost no task (aiohttp kept a handler task and heartbeat timers per socket)."""
    await publish(rds, "golf", [change("g1", 100)])
    node = await start_node()
    before = len(asyncio.all_tasks())
    clients = [await connect(node, user=i) for i in range(1, 21)]
    for c in clients:
        await c.sub(["sport:golf"])
    server = node.runner.server
    assert isinstance(server, FrontServer)
    # A sub's task ends just after its answer is written; then nothing is left per socket.
    await wait_for(lambda: not server.tasks, what="the subs' tasks end")
    assert len(server.sockets) == 20
    # Our 20 clients each run one reading task; the server added none.
    assert len(asyncio.all_tasks()) - before <= 20


async def test_frames_behind_a_sub_wait_their_turn_in_order(start_node: StartNode, connect: Connect,
                                                             rds: aioredis.Redis) -> None:
    """A ping sent right after a sub is answered after it (it waits while the sub reads Redis); a flood
    behind a sub still meets the frame budget."""
    await publish(rds, "golf", [change("g1", 100)])
    node = await start_node()
    client = await connect(node)
    await client.send({"op": "sub", "id": 1, "topics": ["sport:golf"]})
    await client.send({"op": "ping", "id": 2})
    await client.wait("pong", id=2)
    ops = [f["op"] for f in client.frames if f["op"] in ("subscribed", "pong")]
    assert ops == ["subscribed", "pong"]  # in the order sent
    flood = await connect(await start_node(max_client_frames=5))
    await flood.send({"op": "sub", "id": 1, "topics": ["sport:golf"]})
    for i in range(10):
        await flood.send({"op": "ping", "id": i})
    assert await flood.closed() == 4029


async def test_a_ping_flood_is_rate_limited_before_hello(start_node: StartNode) -> None:
    """Pings count in the frame window: 10,000 of them close the socket 4029, they do not buy 10,000 pongs."""
    node = await start_node(max_client_frames=50)
    raw = await RawWS.connect(node.host, node.port)
    raw.writer.write(_frame(b"x" * 125, w.OP_PING) * 10_000)
    pongs = 0
    while (frame := await asyncio.wait_for(raw.frame(), scaled(10)))[0] == w.OP_PONG:
        pongs += 1
    assert frame[0] == w.OP_CLOSE and struct.unpack("!H", frame[1][:2])[0] == 4029
    assert pongs <= 50


async def test_pongs_to_a_client_that_never_reads_stop_at_the_buffer_cap(start_node: StartNode,
                                                                          rds: aioredis.Redis) -> None:
    """A ping's pong goes through the write-buffer cap: a pinging socket that never reads is closed 4008."""
    node = await start_node(max_buffer_bytes=64 * 1024, max_client_frames=1_000_000)
    raw = await RawWS.connect(node.host, node.port, rcvbuf=4096)
    await _hello(rds, raw)
    hub = node.app[NODE].hub
    assert len(hub.conns) == 1
    for _ in range(40):  # 40 x 125 KB of pings, each answered with a pong nobody reads
        raw.writer.write(_frame(b"x" * 125, w.OP_PING) * 1000)
        await raw.writer.drain()
        if not hub.conns:
            break
    await wait_for(lambda: not hub.conns, what="the pinging socket is closed as a slow consumer")


async def test_a_request_head_over_the_bound_goes_to_aiohttp_even_in_one_read(start_node: StartNode) -> None:
    node = await start_node()
    reader, writer = await asyncio.open_connection(node.host, node.port)
    writer.write(b"GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 b"X-Big: " + b"a" * (w.MAX_HEAD + 100) + b"\r\n\r\n")
    status = await asyncio.wait_for(reader.readline(), scaled(10))
    assert status.split()[1].startswith(b"4"), status  # aiohttp's refusal (400), never a 101
    writer.close()
