"""Recompute every account's hash chain and reconcile the account rows with it.

Reads the ledger in (account, seq) order in bounded pages, so memory stays flat on large books.
The first broken entry (in that order) is reported with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

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


class EntryRow(NamedTuple):
    """A ledger entry as ``SELECT_PAGE`` reads it."""

    id: int
    account_id: int
    seq: int
    amount_cents: int
    risk_cents: int
    balance_after: int
    risk_after: int
    kind: str
    ref_type: str | None
    ref_id: str | None
    actor_id: int | None
    memo: str
    meta: dict[str, str]
    override: bool
    created_at: datetime
    prev_hash: str
    hash: str


class ChainTip(NamedTuple):
    """Where an account's chain stands after an entry: what the next entry must follow."""

    seq: int
    hash: str
    balance_cents: int
    risk_cents: int


START = ChainTip(0, GENESIS, 0, 0)


@dataclass(slots=True)
class Report:
    """The outcome of a verification: ``ok`` or the first broken entry and why."""

    entries: int = 0
    accounts: int = 0
    broken: dict[str, Any] | None = None
    problems: int = 0
    _tips: dict[int, ChainTip] = field(default_factory=dict)

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


def check_entry(e: EntryRow, prev: ChainTip) -> str | None:
    """Why entry ``e`` does not follow ``prev``, the tip of its account's chain, or None."""
    if e.seq != prev.seq + 1:
        return f"sequence gap: expected {prev.seq + 1}, found {e.seq}"
    if e.prev_hash != prev.hash:
        return "prev_hash does not match the previous entry's hash"
    if e.balance_after != prev.balance_cents + e.amount_cents or e.risk_after != prev.risk_cents + e.risk_cents:
        return "running balance or risk does not add up"
    payload = canonical(
        account_id=e.account_id, seq=e.seq, amount_cents=e.amount_cents, risk_cents=e.risk_cents,
        balance_after=e.balance_after, risk_after=e.risk_after, kind=e.kind, ref_type=e.ref_type, ref_id=e.ref_id,
        actor_id=e.actor_id, memo=e.memo, meta=e.meta, override=e.override, created_at=e.created_at,
    )
    if chain_hash(e.prev_hash, payload) != e.hash:
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
            rows = [EntryRow._make(row) for row in await cur.fetchall()]
            for e in rows:
                reason = check_entry(e, tips.get(e.account_id, START))
                if reason:
                    report.fail(entry_id=e.id, account_id=e.account_id, seq=e.seq, reason=reason)
                # Continue from what the row claims so one bad row is reported once, not cascaded.
                tips[e.account_id] = ChainTip(e.seq, e.hash, e.balance_after, e.risk_after)
                report.entries += 1
            if len(rows) < PAGE:
                break
            cursor_key = {"account_id": rows[-1].account_id, "seq": rows[-1].seq}
        await cur.execute(SELECT_ACCOUNTS, {"only": account_id})
        for acct, balance, risk, seq, head in await cur.fetchall():
            report.accounts += 1
            tip = tips.get(acct, START)
            if (seq, head) != (tip.seq, tip.hash):
                report.fail(entry_id=None, account_id=acct, seq=seq,
                            reason="account chain tip does not match the ledger")
            elif (balance, risk) != (tip.balance_cents, tip.risk_cents):
                report.fail(entry_id=None, account_id=acct, seq=seq,
                            reason="account balance or pending risk does not match the ledger")
    return report
