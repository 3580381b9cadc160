"""Kill switches in PostgreSQL: read the board, throw or release a switch (audited), tell everyone.

PostgreSQL is the truth. A change is one statement (the switch row and its audit row together),
then a Redis ``PUBLISH switches`` wakes every restapi process (``live.Watcher``) and a broadcast
``notify`` entry (user 0, kind ``switches.changed``) reaches every socket through pushd, so web
pages grey suspended prices out. If Redis is down the change still holds: each process also polls
the audit table's head once a second.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import aiopg
from redis.exceptions import RedisError

from restapi.switches.model import Board, Switch, label, validate_target
from shared import streams
from shared.errors import Forbidden, NotFound
from shared.redis import Redis

log = logging.getLogger(__name__)

CHANNEL = "switches"  # Redis pub/sub channel: "a switch changed, reload"
BROADCAST_USER = 0  # notify entries for user 0 go to every socket (pushd)
COLUMNS = "id, owner_id, scope, target, suspended, reason, changed_by, changed_at"

SELECT_VERSION = "SELECT COALESCE(max(id), 0) FROM kill_switch_audit"
SELECT_THROWN = f"SELECT {COLUMNS} FROM kill_switches WHERE suspended"
SELECT_OWNED = f"""
SELECT {COLUMNS} FROM kill_switches WHERE owner_id IS NOT DISTINCT FROM %(owner)s ORDER BY scope, target
"""
SELECT_AUDIT = """
SELECT id, switch_id, scope, target, suspended, reason, actor_id, at FROM kill_switch_audit
 WHERE owner_id IS NOT DISTINCT FROM %(owner)s ORDER BY id DESC LIMIT %(limit)s
"""
# The caller's role, status and agent chain (its agent and that agent's master).
SELECT_CALLER = """
SELECT u.role, u.status, u.agent_id, a.agent_id FROM users u LEFT JOIN users a ON a.id = u.agent_id
 WHERE u.id = %(user_id)s
"""
SELECT_MASTER = "SELECT agent_id FROM users WHERE id = %(agent_id)s"
# The switch and its audit row in one statement (one transaction).
UPSERT = f"""
WITH s AS (
    INSERT INTO kill_switches (owner_id, scope, target, suspended, reason, changed_by, changed_at)
    VALUES (%(owner)s, %(scope)s, %(target)s, %(suspended)s, %(reason)s, %(actor)s, %(now)s)
    ON CONFLICT ((COALESCE(owner_id, 0)), scope, target) DO UPDATE
       SET suspended = EXCLUDED.suspended, reason = EXCLUDED.reason, changed_by = EXCLUDED.changed_by,
           changed_at = EXCLUDED.changed_at
    RETURNING {COLUMNS}
), a AS (
    INSERT INTO kill_switch_audit (switch_id, owner_id, scope, target, suspended, reason, actor_id, at)
    SELECT id, owner_id, scope, target, suspended, reason, changed_by, changed_at FROM s
    RETURNING id
)
SELECT {COLUMNS}, (SELECT id FROM a) FROM s
"""


def _switch(row: tuple[Any, ...]) -> Switch:
    return Switch(*row[:8])


async def load(pool: aiopg.Pool) -> Board:
    """The board as PostgreSQL has it now."""
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(SELECT_VERSION)
        (version,) = await cur.fetchone()
        await cur.execute(SELECT_THROWN)
        rows = await cur.fetchall()
    return Board.of(int(version), [_switch(r) for r in rows])


async def version(pool: aiopg.Pool) -> int:
    """The id of the newest audit row: it changes with every switch change."""
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(SELECT_VERSION)
        (v,) = await cur.fetchone()
    return int(v)


async def chain_of(cur: Any, user_id: int) -> tuple[str, str, tuple[int, ...]]:
    """(role, status, agent chain) of a user; the chain of an agent starts with itself."""
    await cur.execute(SELECT_CALLER, {"user_id": user_id})
    row = await cur.fetchone()
    if row is None:
        raise NotFound("This account no longer exists", code="user_not_found")
    role, status, agent, master = row
    first = user_id if role == "agent" else agent
    return role, status, tuple(x for x in (first, agent if role == "agent" else master) if x is not None)


async def master_chain(cur: Any, agent_id: int) -> tuple[int, ...]:
    """``(agent_id, its master)`` or ``(agent_id,)`` for a top-level agent."""
    await cur.execute(SELECT_MASTER, {"agent_id": agent_id})
    row = await cur.fetchone()
    return (agent_id,) if row is None or row[0] is None else (agent_id, int(row[0]))


async def owner_for(cur: Any, user_id: int) -> int | None:
    """Whose switches the caller flips: None (the house) for an admin, itself for a master agent; else 403."""
    role, status, chain = await chain_of(cur, user_id)
    if status != "active":
        raise Forbidden("This account is not active", code="account_inactive")
    if role == "admin":
        return None
    if role == "agent" and chain == (user_id,):
        return user_id
    raise Forbidden("Only an admin or a master agent can use kill switches", code="wrong_role")


async def overview(pool: aiopg.Pool, user_id: int, audit_limit: int = 50) -> dict[str, Any]:
    """The caller's own switches (thrown or not) and their latest changes."""
    async with pool.acquire() as conn, conn.cursor() as cur:
        owner = await owner_for(cur, user_id)
        await cur.execute(SELECT_OWNED, {"owner": owner})
        switches = [_switch(r).as_api() for r in await cur.fetchall()]
        await cur.execute(SELECT_AUDIT, {"owner": owner, "limit": audit_limit})
        audit = [{"id": r[0], "switch_id": r[1], "scope": r[2], "target": r[3], "suspended": r[4], "reason": r[5],
                  "actor_id": r[6], "at": r[7].isoformat(), "label": label(r[2], r[3])} for r in await cur.fetchall()]
    return {"owner_id": owner, "switches": switches, "audit": audit}


async def applying(pool: aiopg.Pool, board: Board, user_id: int) -> list[dict[str, object]]:
    """The thrown switches that apply to the caller (the house's and its tree's)."""
    async with pool.acquire() as conn, conn.cursor() as cur:
        role, _status, chain = await chain_of(cur, user_id)
    return [s.as_api() for s in board.applying(() if role == "admin" else chain)]


async def set_switch(pool: aiopg.Pool, redis: Redis, user_id: int, scope: str, target: str, suspended: bool,
                     reason: str, now: datetime) -> dict[str, object]:
    """Throw or release one switch for the caller's house or tree, audited; then tell every process."""
    target = validate_target(scope, target)
    async with pool.acquire() as conn, conn.cursor() as cur:
        owner = await owner_for(cur, user_id)
        await cur.execute(UPSERT, {"owner": owner, "scope": scope, "target": target, "suspended": suspended,
                                   "reason": reason.strip(), "actor": user_id, "now": now})
        row = await cur.fetchone()
    switch = _switch(row)
    log.info("kill switch changed", extra={"fields": {
        "switch_id": switch.id, "owner_id": owner, "scope": scope, "target": target, "suspended": suspended,
        "actor_id": user_id}})
    await announce(redis, switch, int(row[8]))
    return switch.as_api()


async def announce(redis: Redis, switch: Switch, version: int) -> None:
    """Wake every restapi process and every socket; PostgreSQL already holds the change, so a Redis
    failure is logged, not raised (processes poll the audit head as well)."""
    try:
        await redis.publish(CHANNEL, str(version))
        await streams.notify(redis, BROADCAST_USER, "switches.changed",
                             {"version": version, **switch.as_api()})
    except (RedisError, OSError) as exc:
        log.warning("could not announce a kill switch change: %s", exc)
