"""Per-account login throttling, kept in PostgreSQL so that losing Redis does not reset it.

Two rules, checked before bcrypt runs (the per-IP limit in Redis comes first and stays):

- **Block per account and address.** ``AUTH_ACCOUNT_PAIR_LIMIT`` failures of one account from one
  address within ``AUTH_ACCOUNT_WINDOW`` block that pair until the window ends. It never touches
  the account's owner elsewhere.
- **Slow down per account.** From ``AUTH_ACCOUNT_SLOW_AFTER`` failures on (any addresses, forgotten
  after a quiet window), an address that has not logged this account in within
  ``AUTH_KNOWN_ADDRESS_DAYS`` waits between attempts: 1 s, 2 s, 4 s ... up to
  ``AUTH_ACCOUNT_MAX_DELAY``. Addresses the owner used stay exempt, and a password reset clears it.

Every admitted attempt counts as a failure before the password is checked (so a burst of parallel
attempts cannot slip past the count) and a success gives it back. ``decide`` is the pure policy;
``claim``/``succeeded``/``clear`` are its storage.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import aiopg

from restapi.auth import queries as q
from restapi.config import RestSettings


@dataclass(frozen=True, slots=True)
class Policy:
    """The throttle's settings."""

    slow_after: int
    max_delay: float
    pair_limit: int
    window: float
    known_days: int

    @classmethod
    def from_settings(cls, s: RestSettings) -> Policy:
        return cls(s.account_slow_after, s.account_max_delay, s.account_pair_limit, s.account_window,
                   s.known_address_days)

    def delay(self, failures: int) -> float:
        """Seconds a new address waits after the account's ``failures``-th failure (0 below the threshold)."""
        over = failures - self.slow_after
        return 0.0 if over < 0 else min(float(2 ** min(over, 30)), self.max_delay)


@dataclass(frozen=True, slots=True)
class Account:
    """Failures of one account from any address."""

    failures: int
    last_failure_at: datetime
    next_at: datetime  # addresses that are not known may try again from then


@dataclass(frozen=True, slots=True)
class Pair:
    """Failures of one account from one address."""

    failures: int
    window_start: datetime


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether an attempt may check the password, and the state to store when it may."""

    allowed: bool
    reason: str = ""  # "blocked" (this account from this address) or "slowed" (this account)
    retry_after: float = 0.0
    account: Account | None = None
    pair: Pair | None = None


def decide(now: datetime, account: Account | None, pair: Pair | None, known: bool, policy: Policy) -> Verdict:
    """The verdict on one login attempt; when allowed, the state counting it as a failure."""
    window = timedelta(seconds=policy.window)
    if account is None or now - account.last_failure_at >= window:
        account = Account(0, now, now)
    if pair is None or now - pair.window_start >= window:
        pair = Pair(0, now)
    if pair.failures >= policy.pair_limit:
        return Verdict(False, "blocked", (pair.window_start + window - now).total_seconds())
    if not known and account.failures >= policy.slow_after and now < account.next_at:
        return Verdict(False, "slowed", (account.next_at - now).total_seconds())
    failures = account.failures + 1
    next_at = max(account.next_at, now + timedelta(seconds=policy.delay(failures)))
    return Verdict(True, account=Account(failures, now, next_at), pair=replace(pair, failures=pair.failures + 1))


async def claim(pool: aiopg.Pool, user_id: int, ip: str, now: datetime, policy: Policy) -> Verdict:
    """Decide on an attempt and, when it is allowed, store it as a failure (one short transaction; the
    account row's lock makes concurrent attempts take turns)."""
    p: dict[str, Any] = {"user_id": user_id, "ip": ip, "now": now,
                         "since": now - timedelta(days=policy.known_days)}
    async with pool.acquire() as conn, conn.cursor() as cur, cur.begin():
        await cur.execute(q.THROTTLE_ENSURE, p)
        await cur.execute(q.THROTTLE_LOCK, p)
        row = await cur.fetchone()
        account = Account(int(row[0]), row[1], row[2]) if row else None
        await cur.execute(q.PAIR_SELECT, p)
        row = await cur.fetchone()
        pair = Pair(int(row[0]), row[1]) if row else None
        await cur.execute(q.KNOWN_ADDRESS, p)
        row = await cur.fetchone()
        verdict = decide(now, account, pair, bool(row and row[0]), policy)
        if verdict.allowed and verdict.account and verdict.pair:
            a, pr = verdict.account, verdict.pair
            await cur.execute(q.THROTTLE_SAVE, {**p, "failures": a.failures, "last": a.last_failure_at,
                                                "next_at": a.next_at})
            await cur.execute(q.PAIR_SAVE, {**p, "failures": pr.failures, "window_start": pr.window_start})
    return verdict


async def succeeded(pool: aiopg.Pool, user_id: int, ip: str) -> None:
    """The password was right: give the attempt back and forget this address's failures."""
    async with pool.acquire() as conn, conn.cursor() as cur, cur.begin():
        await cur.execute(q.THROTTLE_GIVE_BACK, {"user_id": user_id, "ip": ip})


async def clear(cur: Any, user_id: int) -> None:
    """Forget every failure of the account (a password reset: the owner proved who they are)."""
    await cur.execute(q.THROTTLE_CLEAR, {"user_id": user_id})
