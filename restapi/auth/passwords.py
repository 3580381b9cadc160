"""bcrypt hashing off the event loop (cost >= 12 takes ~235 ms here; the loop must keep serving)."""

from __future__ import annotations

import asyncio

import bcrypt

# Checked when the login names nobody, so an unknown login costs as long as a wrong password and the
# timing does not tell which accounts exist. Made once, lazily, at the configured cost.
_DUMMY: dict[int, bytes] = {}


async def hash_password(password: str, cost: int) -> str:
    """A bcrypt hash of ``password`` (8-72 bytes, checked by the schema) at ``cost``."""
    hashed: bytes = await asyncio.to_thread(bcrypt.hashpw, password.encode(), bcrypt.gensalt(cost))
    return hashed.decode()


def _check(password: bytes, hashed: bytes) -> bool:
    try:
        return bcrypt.checkpw(password, hashed)
    except ValueError:  # a malformed stored hash, or a password bcrypt refuses: never a match
        return False


async def check_password(password: str, hashed: str | None, cost: int) -> bool:
    """True when ``password`` matches ``hashed``; with no hash, burn the same time and say False."""
    if hashed is None:
        if cost not in _DUMMY:
            _DUMMY[cost] = (await hash_password("not-a-real-password", cost)).encode()
        await asyncio.to_thread(_check, password.encode(), _DUMMY[cost])
        return False
    return await asyncio.to_thread(_check, password.encode(), hashed.encode())
