"""``python -m restapi.seed``: load the demo book (idempotent: running it again changes nothing).

One admin, a master agent with a sub-agent, and 20 players with balances and credit limits; the
balances are posted to the ledger as opening entries, followed by six weeks of history (deposits,
bets, free play, closed weeks with settlements in every state: see ``restapi.seed_book``).
Credentials are in the README.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiopg
import bcrypt

from restapi import ledger, seed_book

DEMO_PASSWORDS = {"admin": "admin-pass-123", "agent": "agent-pass-123", "player": "player-pass-123"}
BCRYPT_COST = 12

INSERT_USER = """
INSERT INTO users (login, email, password_hash, display_name, phone, role, agent_id,
                   balance_cents, credit_limit_cents)
VALUES (%(login)s, %(email)s, %(password_hash)s, %(display_name)s, %(phone)s, %(role)s, %(agent_id)s,
        %(balance_cents)s, %(credit_limit_cents)s)
ON CONFLICT (login) DO NOTHING
"""
SELECT_ID = "SELECT id FROM users WHERE login = %(login)s"

FIRST = ["Ava", "Ben", "Cara", "Dan", "Eli", "Fay", "Gus", "Hana", "Ivan", "Jo", "Kai", "Lena", "Max", "Nia",
         "Omar", "Pia", "Quinn", "Rosa", "Sam", "Tess"]
LAST = ["Reed", "Stone", "Park", "Diaz", "Moss", "Hart", "Lowe", "Kerr", "Shaw", "Lane"]


@dataclass(frozen=True, slots=True)
class DemoUser:
    login: str
    role: str
    agent_login: str | None
    display_name: str
    balance_cents: int = 0
    credit_limit_cents: int = 0


def demo_users(seed: int = 42) -> list[DemoUser]:
    """The demo book, the same every time for a given seed."""
    rng = random.Random(seed)
    users = [
        DemoUser("admin", "admin", None, "Book Admin"),
        DemoUser("agent1", "agent", None, "Master Agent"),
        DemoUser("agent2", "agent", "agent1", "Sub Agent"),
    ]
    for i in range(20):
        users.append(
            DemoUser(
                login=f"player{i + 1:02d}",
                role="player",
                agent_login="agent1" if i < 12 else "agent2",
                display_name=f"{FIRST[i]} {LAST[i % len(LAST)]}",
                balance_cents=rng.randrange(-50_000, 150_000, 100),
                credit_limit_cents=rng.choice([50_000, 100_000, 250_000, 500_000]),
            )
        )
    return users


async def _hash(password: str) -> str:
    hashed: bytes = await asyncio.to_thread(bcrypt.hashpw, password.encode(), bcrypt.gensalt(BCRYPT_COST))
    return hashed.decode()


async def seed(dsn: str, now: datetime | None = None) -> int:
    """Insert the demo users that are missing; returns how many were inserted.

    ``now`` is the instant the history is generated up to (default: the wall clock).
    """
    now = now or datetime.now(UTC)
    hashes = dict(zip(DEMO_PASSWORDS, await asyncio.gather(*map(_hash, DEMO_PASSWORDS.values())), strict=True))
    inserted = 0
    async with aiopg.connect(dsn) as conn, conn.cursor() as cur:
        ids: dict[str, int] = {}
        for u in demo_users():
            await cur.execute(INSERT_USER, {
                "login": u.login,
                "email": f"{u.login}@wagerbabe.test",
                "password_hash": hashes[u.role],
                "display_name": u.display_name,
                "phone": None,
                "role": u.role,
                "agent_id": ids[u.agent_login] if u.agent_login else None,
                "balance_cents": u.balance_cents,
                "credit_limit_cents": u.credit_limit_cents,
            })
            inserted += cur.rowcount
            await cur.execute(SELECT_ID, {"login": u.login})
            row = await cur.fetchone()
            ids[u.login] = row[0]
        # Balances enter the books through the ledger: each gets its opening entry (once), dated
        # just before the generated history so every chain reads in time order.
        opening_at = seed_book.history_start(now) - timedelta(minutes=1)
        for user_id in ids.values():
            async with cur.begin():
                await ledger.adopt_balance(cur, account_id=user_id, actor_id=ids["admin"], at=opening_at)
    await seed_book.seed_history(dsn, ids["admin"], now=now)
    return inserted


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m restapi.seed", description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    args = parser.parse_args()
    if not args.database_url:
        parser.error("DATABASE_URL is not set and --database-url not given")
    print(f"demo seed: {asyncio.run(seed(args.database_url))} user(s) inserted")


if __name__ == "__main__":
    main()
