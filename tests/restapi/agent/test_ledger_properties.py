"""Property test of the ledger invariants over random sequences of postings on real PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from restapi import ledger
from restapi.ledger.verify import verify
from shared.db import create_pool

_ids = itertools.count(1000)

OPS = st.lists(st.tuples(st.sampled_from(["deposit", "withdrawal", "bet_risk", "grade", "adjustment"]),
                         st.integers(1, 50_000), st.booleans()), min_size=1, max_size=25)


async def _run(dsn: str, limit: int, ops: list[tuple[str, int, bool]]) -> None:
    account = next(_ids)
    pool = await create_pool(dsn, 1, 2)
    try:
        async with pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute("INSERT INTO users (id, login, role, agent_id, credit_limit_cents) "
                              "VALUES (%(id)s, %(login)s, 'agent', NULL, %(limit)s)",
                              {"id": account, "login": f"u{account}", "limit": limit})
            balance = risk = 0
            open_bets: list[int] = []
            for kind, amount, flag in ops:
                if kind == "grade":
                    if not open_bets:
                        continue
                    stake = open_bets.pop()
                    args = {"amount_cents": (amount if flag else -stake), "risk_cents": -stake,
                            "kind": "bet_win" if flag else "bet_loss"}
                elif kind == "bet_risk":
                    args = {"amount_cents": 0, "risk_cents": amount, "kind": "bet_risk"}
                elif kind == "deposit":
                    args = {"amount_cents": amount, "kind": "deposit"}
                else:
                    args = {"amount_cents": -amount, "kind": kind, "override": flag and kind == "adjustment"}
                try:
                    async with cur.begin():
                        entry = await ledger.post(cur, account_id=account, **args)  # type: ignore[arg-type]
                except ledger.InsufficientCredit:
                    # Refused only when it lowers available credit below zero without an override.
                    assert ledger.available_cents(balance + args["amount_cents"], limit,
                                                  risk + args.get("risk_cents", 0)) < 0
                    continue
                balance, risk = entry.balance_after, entry.risk_after
                if kind == "bet_risk":
                    open_bets.append(amount)
                if not entry.override and args["amount_cents"] - args.get("risk_cents", 0) < 0:
                    assert ledger.available_cents(balance, limit, risk) >= 0
            await cur.execute("SELECT balance_cents, pending_risk_cents FROM users WHERE id = %(id)s",
                              {"id": account})
            assert await cur.fetchone() == (balance, risk)
            await cur.execute("SELECT coalesce(sum(amount_cents), 0), coalesce(sum(risk_cents), 0) "
                              "FROM ledger_entries WHERE account_id = %(id)s", {"id": account})
            assert await cur.fetchone() == (balance, risk)
            assert risk == sum(open_bets)
        assert (await verify(pool, account)).ok
    finally:
        pool.close()
        await pool.wait_closed()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(limit=st.integers(0, 100_000), ops=OPS)
def test_balance_risk_and_chain_stay_consistent(database_url: str, limit: int,
                                               ops: list[tuple[str, int, bool]]) -> None:
    asyncio.run(_run(database_url, limit, ops))
