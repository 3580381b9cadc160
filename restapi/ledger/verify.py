"""Recompute every account's hash chain and reconcile the account rows with it.

Reads the ledger in (account, seq) order in bounded pages, so memory stays flat on large books.
The first broken entry (in that order) is reported with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import aiopg

from restapi.ledger import GENESIS, canonical, chain_hash

PAGE = 5000
SELECT_PAGE = """
SELECT id, account_id, seq, amount_cents, risk_cents, balance_after, risk_after, kind, ref_type, ref_id,
       actor_id, memo, meta, override, created_at, prev_hash, hash
  FROM ledger_entries
 WHERE (account_id, seq) > (%(account_id)s, %(seq)s)
   AND (%(only)s::bigint IS NULL OR account_id = %(only)s)
 ORDER BY account_id, seq
 LIMIT %(limit)s
"""
SELECT_ACCOUNTS = """
SELECT id, balance_cents, pending_risk_cents, ledger_seq, ledger_head FROM users
 WHERE (%(only)s::bigint IS NULL OR id = %(only)s)
   AND (ledger_seq > 0 OR balance_cents <> 0 OR pending_risk_cents <> 0)
 ORDER BY id
"""


@dataclass(slots=True)
class Report:
    """The outcome of a verification: ``ok`` or the first broken entry and why."""

    entries: int = 0
    accounts: int = 0
    broken: dict[str, Any] | None = None
    problems: int = 0
    _tips: dict[int, tuple[int, str, int, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.broken is None

    def fail(self, **what: Any) -> None:
        """Record a problem; the first one is kept as ``broken``."""
        self.problems += 1
        if self.broken is None:
            self.broken = what

    def to_json(self) -> dict[str, Any]:
        """The report as API JSON."""
        return {"ok": self.ok, "entries_checked": self.entries, "accounts_checked": self.accounts,
                "problems": self.problems, "first_broken": self.broken}


def check_entry(row: tuple[Any, ...], prev: tuple[int, str, int, int]) -> str | None:
    """Why ``row`` does not follow ``prev`` = (seq, hash, balance, risk) of its account, or None."""
    (_id, account_id, seq, amount, risk, balance_after, risk_after, kind, ref_type, ref_id, actor_id,
     memo, meta, override, created_at, prev_hash, digest) = row
    p_seq, p_hash, p_balance, p_risk = prev
    if seq != p_seq + 1:
        return f"sequence gap: expected {p_seq + 1}, found {seq}"
    if prev_hash != p_hash:
        return "prev_hash does not match the previous entry's hash"
    if balance_after != p_balance + amount or risk_after != p_risk + risk:
        return "running balance or risk does not add up"
    payload = canonical(
        account_id=account_id, seq=seq, amount_cents=amount, risk_cents=risk, balance_after=balance_after,
        risk_after=risk_after, kind=kind, ref_type=ref_type, ref_id=ref_id, actor_id=actor_id, memo=memo,
        meta=meta, override=override, created_at=created_at,
    )
    if chain_hash(prev_hash, payload) != digest:
        return "hash does not match the entry's contents"
    return None


async def verify(pool: aiopg.Pool, account_id: int | None = None) -> Report:
    """Verify the chain of every account (or one) and that each account row matches its chain tip."""
    report = Report()
    tips = report._tips
    cursor_key = {"account_id": 0, "seq": 0}
    async with pool.acquire() as conn, conn.cursor() as cur:
        while True:
            await cur.execute(SELECT_PAGE, {**cursor_key, "only": account_id, "limit": PAGE})
            rows = await cur.fetchall()
            for row in rows:
                entry_id, acct, seq = row[0], row[1], row[2]
                prev = tips.get(acct, (0, GENESIS, 0, 0))
                reason = check_entry(row, prev)
                if reason:
                    report.fail(entry_id=entry_id, account_id=acct, seq=seq, reason=reason)
                # Continue from what the row claims so one bad row is reported once, not cascaded.
                tips[acct] = (seq, row[16], row[5], row[6])
                report.entries += 1
            if len(rows) < PAGE:
                break
            cursor_key = {"account_id": rows[-1][1], "seq": rows[-1][2]}
        await cur.execute(SELECT_ACCOUNTS, {"only": account_id})
        for acct, balance, risk, seq, head in await cur.fetchall():
            report.accounts += 1
            tip = tips.get(acct, (0, GENESIS, 0, 0))
            if (seq, head) != tip[:2]:
                report.fail(entry_id=None, account_id=acct, seq=seq,
                            reason="account chain tip does not match the ledger")
            elif (balance, risk) != tip[2:]:
                report.fail(entry_id=None, account_id=acct, seq=seq,
                            reason="account balance or pending risk does not match the ledger")
    return report
