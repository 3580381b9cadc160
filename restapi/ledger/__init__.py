"""The hash-chained, append-only money ledger: the only way a balance or a risk hold changes.

API (import from ``restapi.ledger``)::

    async with pool.acquire() as conn, conn.cursor() as cur, cur.begin():
        entry = await post(cur, account_id=7, amount_cents=-500, risk_cents=+500, kind="bet_risk",
                           ref_type="bet", ref_id="123", actor_id=7, memo="", meta={"sport": "nba"})

``post`` must run inside the caller's open transaction (it raises otherwise) so the entry commits or
rolls back with the change it records (a bet, a payment). It locks the account row
(``SELECT … FOR UPDATE`` on ``users``), so concurrent posts to one account serialise; appends entry
``seq = ledger_seq + 1`` with ``hash = sha256(prev_hash + canonical(entry))``; and updates
``users.balance_cents``, ``users.pending_risk_cents`` and the chain tip in the same transaction.

A caller that already holds the row locked and read its ``Tip`` (bet placement reads it with
everything else in one round trip) splits ``post`` in two: ``prepare(tip, …)`` checks and hashes
the entry without I/O, and ``APPEND`` with ``posting.params()`` writes it (the SQL function
``ledger_append`` refuses an entry whose chain tip moved, so a missing lock cannot fork a chain).

Money state of an account (all integer cents):

- ``balance_cents``: settled money (negative = the player owes the book).
- ``pending_risk_cents``: stake held by open bets. It is a column on ``users`` maintained by the
  ledger (never a sum over bets), moved by an entry's ``risk_cents``.
- available credit = ``balance + credit_limit - pending_risk`` (``available_cents``). A posting that
  lowers the available credit (``amount - risk < 0``) is refused with ``InsufficientCredit`` when the
  result would be negative, unless ``override=True`` (recorded on the entry, and agents must also
  write an audit row).

Kinds, and how betting must use them (one entry per event, ``ref_type="bet"``, ``ref_id=bet id``,
``meta={"sport": sport_key, "bet_type": "straight"|"parlay"}``; meta values are strings):

==============  ===================  =====================  ==========================================
kind            amount_cents         risk_cents             when
==============  ===================  =====================  ==========================================
bet_risk        0                    +stake                 bet placed (credit checked here)
bet_win         +win (profit only)   -stake                 bet graded won
bet_loss        -stake               -stake                 bet graded lost
bet_release     0                    -stake                 void, push, cancelled
deposit         +amount              0                      cashier credit
withdrawal      -amount              0                      cashier debit
adjustment      ±amount              0                      cashier correction (counts in the figure)
free_play       ±amount              0                      free play (counts in the figure)
settlement      ±amount              0                      weekly settlement payment
opening_balance balance              0                      first entry of a pre-existing balance
==============  ===================  =====================  ==========================================

The weekly figure of a player is the sum of ``amount_cents`` over ``FIGURE_KINDS`` in the week;
handle is the sum of ``risk_cents`` of ``bet_risk`` entries. Bet entries also update the
``ledger_daily`` rollup (bets, handle, win/loss per account and UTC day) in the same transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import psycopg2.extensions

from shared.db import Cursor
from shared.errors import Conflict, NotFound
from shared.money import dollars

GENESIS = "0" * 64
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
KINDS = ("opening_balance", "deposit", "withdrawal", "adjustment", "free_play", "settlement",
         "bet_risk", "bet_release", "bet_win", "bet_loss")
BET_KINDS = ("bet_risk", "bet_release", "bet_win", "bet_loss")
FIGURE_KINDS = ("bet_win", "bet_loss", "adjustment", "free_play")
WINLOSS_KINDS = ("bet_win", "bet_loss")

LOCK_ACCOUNT = """
SELECT balance_cents, credit_limit_cents, pending_risk_cents, ledger_seq, ledger_head
  FROM users WHERE id = %(account_id)s FOR UPDATE
"""
# The entry, the account row and the daily rollup (sql/0014_ledger_daily.sql) in one call of a
# function whose plans PostgreSQL keeps (sql/0015_placement_functions.sql).
APPEND = """
SELECT ledger_append(%(account_id)s, %(seq)s, %(amount_cents)s, %(risk_cents)s, %(balance_after)s, %(risk_after)s,
                     %(kind)s, %(ref_type)s, %(ref_id)s, %(actor_id)s, %(memo)s, %(meta)s::jsonb, %(override)s,
                     %(created_at)s, %(prev_hash)s, %(hash)s)
"""


class InsufficientCredit(Conflict):
    """The posting would take the account below what its credit limit allows."""

    code, default_message = "insufficient_credit", "Not enough available credit"


@dataclass(frozen=True, slots=True)
class Tip:
    """An account's money state and the tip of its hash chain, as read while its row is locked."""

    account_id: int
    balance_cents: int
    credit_limit_cents: int
    pending_risk_cents: int
    seq: int
    head: str


@dataclass(frozen=True, slots=True)
class Posting:
    """An entry prepared on top of a ``Tip`` (hash included), before it is written."""

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
    meta: dict[str, Any]
    override: bool
    created_at: datetime
    prev_hash: str
    hash: str

    def params(self) -> dict[str, Any]:
        """The parameters of ``APPEND``."""
        return {"account_id": self.account_id, "seq": self.seq, "amount_cents": self.amount_cents,
                "risk_cents": self.risk_cents, "balance_after": self.balance_after, "risk_after": self.risk_after,
                "kind": self.kind, "ref_type": self.ref_type, "ref_id": self.ref_id, "actor_id": self.actor_id,
                "memo": self.memo, "meta": orjson.dumps(self.meta).decode(), "override": self.override,
                "created_at": self.created_at, "prev_hash": self.prev_hash, "hash": self.hash}


@dataclass(frozen=True, slots=True)
class Entry(Posting):
    """One ledger row as posted."""

    id: int

    def to_json(self) -> dict[str, Any]:
        """The entry as API JSON."""
        return {
            "id": self.id, "account_id": self.account_id, "seq": self.seq, "amount_cents": self.amount_cents,
            "risk_cents": self.risk_cents, "balance_after": self.balance_after, "risk_after": self.risk_after,
            "kind": self.kind, "ref_type": self.ref_type, "ref_id": self.ref_id, "actor_id": self.actor_id,
            "memo": self.memo, "meta": self.meta, "override": self.override,
            "created_at": self.created_at.isoformat(), "hash": self.hash,
        }


def available_cents(balance_cents: int, credit_limit_cents: int, pending_risk_cents: int) -> int:
    """What the account may still risk or withdraw: balance + credit limit - pending risk."""
    return balance_cents + credit_limit_cents - pending_risk_cents


def canonical(
    *, account_id: int, seq: int, amount_cents: int, risk_cents: int, balance_after: int, risk_after: int,
    kind: str, ref_type: str | None, ref_id: str | None, actor_id: int | None, memo: str,
    meta: dict[str, Any], override: bool, created_at: datetime,
) -> bytes:
    """The bytes an entry's hash covers: every field, in a fixed order, as JSON."""
    if created_at.tzinfo is None:
        raise ValueError("created_at must be timezone-aware")
    # Integer microseconds since the epoch: exact, whatever timezone object the driver returns.
    micros = (created_at - _EPOCH) // _MICRO
    return orjson.dumps(
        [account_id, seq, amount_cents, risk_cents, balance_after, risk_after, kind, ref_type, ref_id,
         actor_id, memo, meta, override, micros],
        option=orjson.OPT_SORT_KEYS,
    )


def chain_hash(prev_hash: str, payload: bytes) -> str:
    """sha256(prev_hash + canonical entry), hex."""
    return hashlib.sha256(prev_hash.encode() + payload).hexdigest()


async def _in_transaction(cur: Cursor) -> bool:
    status = await cur.connection.get_transaction_status()
    return status in (psycopg2.extensions.TRANSACTION_STATUS_INTRANS,
                      psycopg2.extensions.TRANSACTION_STATUS_ACTIVE)


def prepare(
    tip: Tip, *, amount_cents: int, kind: str, risk_cents: int = 0, ref_type: str | None = None,
    ref_id: str | int | None = None, actor_id: int | None = None, memo: str = "",
    meta: dict[str, str] | None = None, override: bool = False, at: datetime | None = None,
) -> Posting:
    """The next entry of ``tip``'s chain, checked and hashed (no I/O).

    Raises ``InsufficientCredit`` when it lowers the available credit below zero without
    ``override``. ``at`` backdates the entry (seeding only). Write it with ``APPEND`` in the
    transaction that holds the account row locked since ``tip`` was read.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown ledger kind {kind!r}")
    balance_after = tip.balance_cents + amount_cents
    risk_after = tip.pending_risk_cents + risk_cents
    if risk_after < 0:
        raise ValueError(f"pending risk of account {tip.account_id} would go negative")
    if amount_cents - risk_cents < 0 and not override:
        if available_cents(balance_after, tip.credit_limit_cents, risk_after) < 0:
            available = available_cents(tip.balance_cents, tip.credit_limit_cents, tip.pending_risk_cents)
            requested = risk_cents - amount_cents
            raise InsufficientCredit(
                f"Not enough available credit: available credit {dollars(max(available, 0))}, "
                f"this needs {dollars(requested)}",
                details={"available_cents": available, "requested_cents": requested})
    return _chained(tip, {
        "account_id": tip.account_id, "seq": tip.seq + 1, "amount_cents": amount_cents, "risk_cents": risk_cents,
        "balance_after": balance_after, "risk_after": risk_after, "kind": kind, "ref_type": ref_type,
        "ref_id": None if ref_id is None else str(ref_id), "actor_id": actor_id, "memo": memo,
        "meta": dict(meta or {}), "override": override,
        "created_at": (at or datetime.now(UTC)).astimezone(UTC),
    })


def _chained(tip: Tip, fields: dict[str, Any]) -> Posting:
    return Posting(prev_hash=tip.head, hash=chain_hash(tip.head, canonical(**fields)), **fields)


async def lock(cur: Cursor, account_id: int) -> Tip:
    """Lock the account row until the transaction ends and read its ``Tip`` (404 if unknown)."""
    await cur.execute(LOCK_ACCOUNT, {"account_id": account_id})
    row = await cur.fetchone()
    if row is None:
        raise NotFound("No such account", details={"account_id": account_id})
    return Tip(account_id, *row)


async def append(cur: Cursor, posting: Posting) -> Entry:
    """Write a prepared entry (the caller holds the account row locked since its ``Tip`` was read)."""
    await cur.execute(APPEND, posting.params())
    (entry_id,) = await cur.fetchone()
    return Entry(id=entry_id, **{f: getattr(posting, f) for f in Posting.__slots__})


async def post(
    cur: Cursor, *, account_id: int, amount_cents: int, kind: str, risk_cents: int = 0,
    ref_type: str | None = None, ref_id: str | int | None = None, actor_id: int | None = None,
    memo: str = "", meta: dict[str, str] | None = None, override: bool = False,
    at: datetime | None = None,
) -> Entry:
    """Append one entry to ``account_id``'s chain and apply it, inside the caller's transaction.

    Raises ``NotFound`` for an unknown account and ``InsufficientCredit`` when the posting lowers the
    available credit below zero without ``override``. ``at`` backdates the entry (seeding only).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown ledger kind {kind!r}")
    if not await _in_transaction(cur):
        raise RuntimeError("ledger.post must run inside an open transaction (async with cur.begin())")
    tip = await lock(cur, account_id)
    return await append(cur, prepare(tip, amount_cents=amount_cents, kind=kind, risk_cents=risk_cents,
                                     ref_type=ref_type, ref_id=ref_id, actor_id=actor_id, memo=memo, meta=meta,
                                     override=override, at=at))


async def adopt_balance(cur: Cursor, *, account_id: int, actor_id: int | None = None,
                        at: datetime | None = None) -> Entry | None:
    """Give an account that has a balance but no ledger entries its ``opening_balance`` entry.

    For balances that predate the ledger (e.g. an older demo seed): the entry records the balance
    as it is, so the chain starts reconciled. Returns None when there is nothing to adopt.
    """
    if not await _in_transaction(cur):
        raise RuntimeError("ledger.adopt_balance must run inside an open transaction")
    tip = await lock(cur, account_id)
    if tip.seq != 0 or (tip.balance_cents == 0 and tip.pending_risk_cents == 0):
        return None
    return await append(cur, _chained(tip, {
        "account_id": account_id, "seq": 1, "amount_cents": tip.balance_cents, "risk_cents": tip.pending_risk_cents,
        "balance_after": tip.balance_cents, "risk_after": tip.pending_risk_cents, "kind": "opening_balance",
        "ref_type": None, "ref_id": None, "actor_id": actor_id, "memo": "balance before the ledger", "meta": {},
        "override": True, "created_at": (at or datetime.now(UTC)).astimezone(UTC),
    }))
