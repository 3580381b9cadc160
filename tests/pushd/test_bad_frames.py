"""Every bad frame gets its error (the socket survives) or, for abuse and bad credentials, a close code."""

from __future__ import annotations

import time

import orjson
import pytest
import redis.asyncio as aioredis

from shared import pushticket
from shared.tokens import KeyRing, access_claims
from tests.helpers import captured_json_logs
from tests.pushd.conftest import Connect, StartNode, change, issue_ticket, publish

BAD = [
    ("{nope", "bad_json"),
    ("[1, 2]", "bad_frame"),
    ('{"op": "dance"}', "unknown_op"),
    ('{"op": "sub", "topics": ["sport:x"]}', "bad_request"),
    ('{"op": "sub", "id": 1, "topics": "sport:x"}', "bad_request"),
    ('{"op": "sub", "id": 1, "topics": []}', "bad_request"),
    ('{"op": "sub", "id": 1, "topics": ["horse racing"]}', "bad_topic"),
    ('{"op": "sub", "id": 1, "topics": ["sport:no_such_sport"]}', "unknown_topic"),
    ('{"op": "sub", "id": 1, "topics": ["event:no_such_event"]}', "unknown_topic"),
    ('{"op": "sub", "id": 1, "topics": ["user:999"]}', "forbidden"),
    ('{"op": "sub", "id": 1, "topics": ["sport:golf"], "since": {"sport:golf": {"offset": "yesterday"}}}',
     "bad_offset"),
    ('{"op": "sub", "id": 1, "topics": ["sport:golf"], "since": {"sport:nfl": {"offset": "1-0"}}}',
     "bad_request"),
    ('{"op": "sub", "id": 1, "topics": ["sport:golf"], "since": [1]}', "bad_request"),
    ('{"op": "unsub", "id": 1, "topics": ["user:1"]}', "forbidden"),
    ('{"op": "hello", "token": "again"}', "already_authenticated"),
]


@pytest.mark.parametrize(("raw", "code"), BAD, ids=[c for _, c in BAD])
async def test_bad_frame_gets_its_error_and_the_socket_survives(
        raw: str, code: str, start_node: StartNode, connect: Connect, rds: aioredis.Redis) -> None:
    await publish(rds, "golf", [change("g1", 100)])
    client = await connect(await start_node(), user=1)
    with captured_json_logs() as logs:
        await client.send(raw)
        err = await client.wait("error")
        assert err["code"] == code and err["message"]
        await client.send({"op": "ping", "id": "still-there"})
        await client.wait("pong", id="still-there")
    assert not [line for line in logs if line["level"] in ("ERROR", "CRITICAL") or "traceback" in line]


async def test_binary_frame_gets_an_error(start_node: StartNode, connect: Connect) -> None:
    client = await connect(await start_node())
    await client.ws.send_bytes(b"\x00\x01")
    assert (await client.wait("error"))["code"] == "bad_frame"


async def test_too_many_topics_is_refused(start_node: StartNode, connect: Connect, rds: aioredis.Redis) -> None:
    for s in ("a", "b", "c"):
        await publish(rds, s, [change(f"{s}1", 1)])
    client = await connect(await start_node(max_topics=2))
    await client.sub(["sport:a", "sport:b"])
    await client.send({"op": "sub", "id": 9, "topics": ["sport:c"]})
    assert (await client.wait("error", id=9))["code"] == "too_many_topics"
    await client.send({"op": "unsub", "id": 10, "topics": ["sport:a"]})
    await client.wait("unsubscribed", id=10)
    assert (await client.sub(["sport:c"]))["topics"] == ["sport:c"]


async def test_oversized_frame_closes_1009(start_node: StartNode, connect: Connect) -> None:
    client = await connect(await start_node(max_frame_bytes=1024))
    await client.send({"op": "ping", "id": "x" * 2000})
    assert await client.closed() == 1009


async def test_frame_flood_closes_4029(start_node: StartNode, connect: Connect) -> None:
    client = await connect(await start_node(max_client_frames=5))
    for i in range(10):
        await client.send({"op": "ping", "id": i})
    assert await client.closed() == 4029 and client.ops("error")[-1]["code"] == "rate_limited"


async def test_no_hello_within_the_timeout_closes_4001(start_node: StartNode, connect: Connect) -> None:
    client = await connect(await start_node(hello_timeout=0.2), hello=False)
    assert await client.closed() == 4001 and client.ops("error")[0]["code"] == "auth_timeout"


@pytest.mark.parametrize("first", ['{"op": "sub", "id": 1, "topics": ["sport:x"]}', '{"op": "hello"}', "{x"])
async def test_anything_but_a_valid_hello_first_closes_4001(first: str, start_node: StartNode,
                                                             connect: Connect) -> None:
    client = await connect(await start_node(), hello=False)
    await client.send(first)
    assert await client.closed() == 4001 and client.ops("error")


async def test_bad_expired_or_reused_credentials_close_4001(start_node: StartNode, connect: Connect,
                                                            rds: aioredis.Redis) -> None:
    node = await start_node()
    ticket = await issue_ticket(rds, 4)
    assert (await connect(node, token=ticket)).ops("welcome")[0]["user"] == 4
    for token in (ticket, "pt_never-issued", "a.b.c"):
        client = await connect(node, hello=False)
        await client.send({"op": "hello", "token": token})
        assert await client.closed() == 4001, token
        assert client.ops("error")[0]["code"] in ("invalid_ticket", "invalid_token")
    stale = "pt_stale"
    await rds.set(pushticket.key(stale), orjson.dumps({"sub": "4", "exp": int(time.time()) - 5}))
    client = await connect(node, hello=False)
    await client.send({"op": "hello", "token": stale})
    assert await client.closed() == 4001


async def test_access_jwt_from_the_key_ring_is_accepted(start_node: StartNode, connect: Connect,
                                                        push_env: dict[str, str]) -> None:
    from pathlib import Path

    ring = KeyRing.load(Path(push_env["AUTH_KEYS_DIR"]))
    client = await connect(await start_node(), token=ring.sign(access_claims(42, "player", 2, ttl=60)))
    assert client.ops("welcome")[0]["user"] == 42
    expired = ring.sign(access_claims(42, "player", 2, ttl=-10))
    late = await connect(await start_node(), hello=False)
    await late.send({"op": "hello", "token": expired})
    assert await late.closed() == 4001 and late.ops("error")[0]["code"] == "token_expired"
