"""Profile and preference rules with no HTTP. ``get_preferences`` is the read other groups use
(betting reads ``accept_price_changes`` when a price moved between quote and bet)."""

from __future__ import annotations

import functools
import zoneinfo
from dataclasses import asdict, dataclass
from typing import Any

import aiopg
import psycopg2.errors

from restapi.auth.service import user_dict
from restapi.user import queries as q
from shared.errors import Conflict, NotFound

ODDS_FORMATS = ("american", "decimal")
PRICE_CHANGE_POLICIES = ("none", "better", "any")
NOTIFICATIONS = ("bet_accepted", "bet_graded", "balance", "settlement", "email")


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def valid_timezone(name: str) -> bool:
    """True for an IANA zone name this machine knows (looked up in the set: never a file path)."""
    return name in _zones()


@dataclass(frozen=True, slots=True)
class Preferences:
    """A user's preferences; the defaults are what a user who never saved any gets.

    ``accept_price_changes``: ``none`` refuses a bet whose price moved, ``better`` takes it only if
    the new price pays more, ``any`` takes any new price.
    """

    odds_format: str = "american"
    default_stake_cents: int = 1000
    timezone: str = "UTC"
    notify_bet_accepted: bool = True
    notify_bet_graded: bool = True
    notify_balance: bool = True
    notify_settlement: bool = True
    notify_email: bool = False
    accept_price_changes: str = "none"

    def as_api(self) -> dict[str, Any]:
        """The JSON shape: notification choices grouped under ``notifications``."""
        d = asdict(self)
        notes = {n: d.pop(f"notify_{n}") for n in NOTIFICATIONS}
        return {**d, "notifications": notes}

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Preferences:
        notes = data["notifications"]
        return cls(odds_format=data["odds_format"], default_stake_cents=data["default_stake_cents"],
                   timezone=data["timezone"], accept_price_changes=data["accept_price_changes"],
                   **{f"notify_{n}": bool(notes[n]) for n in NOTIFICATIONS})


async def get_preferences(pool: aiopg.Pool, user_id: int) -> Preferences:
    """The user's saved preferences, or the defaults."""
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(q.SELECT_PREFERENCES, {"user_id": user_id})
        row = await cur.fetchone()
    return Preferences(*row) if row else Preferences()


async def put_preferences(pool: aiopg.Pool, user_id: int, prefs: Preferences) -> Preferences:
    """Replace the user's preferences."""
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(q.UPSERT_PREFERENCES, {"user_id": user_id, **asdict(prefs)})
        return Preferences(*(await cur.fetchone()))


async def get_profile(pool: aiopg.Pool, user_id: int) -> dict[str, Any]:
    """The user's profile (404 if the account is gone)."""
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(q.SELECT_PROFILE, {"id": user_id})
        row = await cur.fetchone()
    if row is None:
        raise NotFound("This account no longer exists", code="user_not_found")
    return user_dict(row)


async def patch_profile(pool: aiopg.Pool, user_id: int, changes: dict[str, Any]) -> dict[str, Any]:
    """Apply the given fields (display_name, email, phone); 409 when the email belongs to someone else."""
    params = {"id": user_id, "display_name": changes.get("display_name"),
              "set_email": "email" in changes, "email": changes.get("email"),
              "set_phone": "phone" in changes, "phone": changes.get("phone")}
    try:
        async with pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(q.UPDATE_PROFILE, params)
            row = await cur.fetchone()
    except psycopg2.errors.UniqueViolation:
        raise Conflict("Another account has that email", code="email_taken",
                       details={"email": ["Already registered."]}) from None
    if row is None:
        raise NotFound("This account no longer exists", code="user_not_found")
    return user_dict(row)
