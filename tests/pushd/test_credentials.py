"""A socket lives as long as the access token behind it: revoked or expired credentials close it,
``refresh`` moves it to newer ones, and a revoked token cannot say hello."""

from __future__ import annotations

import time
from pathlib import Path

import redis.asyncio as aioredis

from shared import denylist, pushticket, streams
from shared.tokens import KeyRing, access_claims
from tests.conftest import TIMEOUT_FACTOR
from tests.helpers import wait_for
from tests.pushd.conftest import Client, Connect, StartNode

# A token lifetime short enough to lapse during the test and long enough, stretched by the
# suite's timeout factor, for a loaded machine to connect and refresh before it does.
SHORT_TTL = max(2, round(2 * TIMEOUT_FACTOR))


def _jwt(keys_dir: Path, user: int, ttl: int = 3600) -> tuple[str, str]:
    claims = access_claims(user, "player", 2, ttl=ttl)
    return KeyRing.load(keys_dir).sign(claims), claims["jti"]


async def still_served(client: Client, req: int) -> None:
    """The socket is open and answers a ping."""
    await client.send({"op": "ping", "id": req})
    await client.wait("pong", id=req)
    assert not client.task.done()


async def test_a_revoked_token_or_its_ticket_cannot_say_hello(
        start_node: StartNode, connect: Connect, rds: aioredis.Redis, keys_dir: Path) -> None:
    node = await start_node()
    token, jti = _jwt(keys_dir, 5)
    await denylist.deny(rds, jti, int(time.time()) + 3600)
    by_jwt = await connect(node, hello=False)
    await by_jwt.send({"op": "hello", "token": token})
    assert await by_jwt.closed() == 4001 and by_jwt.has("error", code="token_revoked")
    ticket = await pushticket.issue(rds, user_id=5, role="player", agent_id=2, jti=jti,
                                    token_exp=int(time.time()) + 3600)
    by_ticket = await connect(node, hello=False)
    await by_ticket.send({"op": "hello", "token": ticket})
    assert await by_ticket.closed() == 4001 and by_ticket.has("error", code="token_revoked")


async def test_revoking_a_token_closes_the_sockets_opened_with_it_on_every_node(
        start_node: StartNode, connect: Connect, rds: aioredis.Redis, keys_dir: Path) -> None:
    node_a, node_b = await start_node(), await start_node()
    revoked, revoked_jti = _jwt(keys_dir, 6)
    kept, _kept_jti = _jwt(keys_dir, 6)
    phone = await connect(node_a, token=revoked)
    ticket = await pushticket.issue(rds, user_id=6, role="player", agent_id=2, jti=revoked_jti,
                                    token_exp=int(time.time()) + 3600)
    tablet = await connect(node_b, token=ticket)  # bought with the same token
    laptop = await connect(node_b, token=kept)  # another session of the same user
    # What restapi writes when the session is logged out (see restapi.auth.service._deny_all).
    await rds.xadd(streams.NOTIFY, streams.encode_notify(6, "session.revoked", {"jtis": [revoked_jti]}))
    assert await phone.closed() == 4001 and await tablet.closed() == 4001
    await laptop.wait("user", kind="session.revoked")  # told, and still open
    await still_served(laptop, 1)


async def test_a_socket_closes_when_its_token_expires_unless_refreshed(
        start_node: StartNode, connect: Connect, rds: aioredis.Redis, keys_dir: Path) -> None:
    node = await start_node()
    short, _ = _jwt(keys_dir, 7, ttl=SHORT_TTL)
    lapsing = await connect(node, token=short)
    assert lapsing.ops("welcome")[0]["expires_at"] is not None
    second, _ = _jwt(keys_dir, 7, ttl=SHORT_TTL)
    second_lapses = time.time() + SHORT_TTL  # at or after the token's own exp (whole seconds)
    refreshed = await connect(node, token=second)
    fresh, _ = _jwt(keys_dir, 7, ttl=3600)
    await refreshed.send({"op": "refresh", "id": "r1", "token": fresh})
    frame = await refreshed.wait("refreshed", id="r1")
    assert frame["expires_at"] > time.time() + 3000

    assert await lapsing.closed() == 4001 and lapsing.has("error", code="token_expired")
    # Past the refreshed socket's first token's expiry (a condition on the clock, not a fixed
    # sleep): the socket is still served on its new token.
    await wait_for(lambda: time.time() > second_lapses + 0.2, timeout=SHORT_TTL + 5, what="the first token to lapse")
    await still_served(refreshed, 2)


async def test_refresh_refuses_bad_or_foreign_credentials_and_keeps_the_socket(
        start_node: StartNode, connect: Connect, rds: aioredis.Redis, keys_dir: Path) -> None:
    node = await start_node()
    client = await connect(node, user=8)
    foreign = await pushticket.issue(rds, user_id=9, role="player", agent_id=2, jti="x", token_exp=None)
    revoked, revoked_jti = _jwt(keys_dir, 8)
    await denylist.deny(rds, revoked_jti, int(time.time()) + 3600)
    for rid, frame in [(1, {"op": "refresh", "id": 1, "token": foreign}),
                       (2, {"op": "refresh", "id": 2, "token": "pt_not-a-ticket"}),
                       (3, {"op": "refresh", "id": 3, "token": revoked}),
                       (4, {"op": "refresh", "id": 4}),
                       (5, {"op": "refresh", "id": 5, "token": _jwt(keys_dir, 8, ttl=-10)[0]})]:
        await client.send(frame)
        await client.wait("error", id=rid)
    codes = [f["code"] for f in client.ops("error")]
    assert codes == ["forbidden", "invalid_ticket", "token_revoked", "bad_request", "token_expired"]
    await still_served(client, 6)
