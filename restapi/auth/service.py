"""Auth rules with no HTTP: accounts, sessions per device, rotating refresh tokens, password resets.

A session is one logged-in device and one family of refresh tokens. Refresh tokens are opaque
random strings; only their sha256 is stored. Each refresh spends the token and hands out a new
one; presenting a spent token again means it was copied, so the whole session is revoked and the
caller is told (theft detection). Revoking a session also denylists its newest access token.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiopg
import psycopg2.errors
from redis.exceptions import RedisError

from restapi.auth import passwords, throttle
from restapi.auth import queries as q
from restapi.config import RestSettings
from restapi.switches import store as switch_store
from restapi.switches.model import Board
from shared import denylist, ratelimit, streams
from shared.clock import Clock, utc_now
from shared.errors import Conflict, Forbidden, RateLimited, Unauthorized, ValidationFailed
from shared.redis import Redis
from shared.tokens import KeyRing, access_claims

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Deps:
    """What the auth rules need: the pool, Redis, the signing keys, the settings and a clock."""

    pool: aiopg.Pool
    redis: Redis
    ring: KeyRing
    settings: RestSettings
    clock: Clock = utc_now


@dataclass(frozen=True, slots=True)
class Client:
    """Where a login comes from (kept on the session so a user can tell devices apart)."""

    ip: str
    user_agent: str
    device: str


@dataclass(frozen=True, slots=True)
class Issued:
    """A token pair handed to one session."""

    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    session_id: str

    def as_dict(self) -> dict[str, Any]:
        return {"access_token": self.access_token, "token_type": "Bearer", "expires_in": self.expires_in,
                "refresh_token": self.refresh_token, "refresh_expires_in": self.refresh_expires_in,
                "session_id": self.session_id}


def token_hash(token: str) -> bytes:
    """The stored form of an opaque token."""
    return hashlib.sha256(token.encode()).digest()


def new_secret() -> str:
    """A fresh opaque token (256 random bits)."""
    return secrets.token_urlsafe(32)


def login_from_email(email: str) -> str:
    """A login name derived from an email's local part (letters, digits, ``._-``; 3-24 chars)."""
    base = re.sub(r"[^a-z0-9._-]", "", email.partition("@")[0].lower()).lstrip("._-")[:24]
    return base if len(base) >= 3 else f"user{base}"


def user_dict(row: tuple[Any, ...]) -> dict[str, Any]:
    """A users row (``USER_COLUMNS``) as the API shows it."""
    created: datetime = row[8]
    return {"id": row[0], "login": row[1], "email": row[2], "display_name": row[3], "phone": row[4],
            "role": row[5], "agent_id": row[6], "status": row[7], "created_at": created.isoformat()}


def login_limit(settings: RestSettings) -> ratelimit.Limit:
    return ratelimit.Limit("login", settings.login_limit, settings.login_window)


def reset_limit(settings: RestSettings) -> ratelimit.Limit:
    """Reset requests and confirmations per IP (confirm runs bcrypt: it must not be free to flood)."""
    return ratelimit.Limit("reset", settings.login_limit, settings.login_window)


def signup_limit(settings: RestSettings) -> ratelimit.Limit:
    """Signups per IP (each runs bcrypt)."""
    return ratelimit.Limit("signup", settings.signup_limit, settings.login_window)


def refresh_limit(settings: RestSettings) -> ratelimit.Limit:
    """Refreshes per IP, at the API's per-user rate (the caller has no verified identity yet)."""
    return ratelimit.Limit("refresh", settings.api_limit, settings.api_window)


async def _issue(deps: Deps, cur: Any, user_id: int, role: str, agent_id: int | None, session_id: str,
                 client: Client | None) -> Issued:
    """Sign an access token and store a new refresh token for the session (inside the caller's tx)."""
    s = deps.settings
    claims = access_claims(user_id, role, agent_id, s.access_ttl, sid=session_id)
    access = deps.ring.sign(claims)
    refresh = new_secret()
    if client is not None:
        await cur.execute(q.INSERT_SESSION, {
            "id": session_id, "user_id": user_id, "device": client.device, "user_agent": client.user_agent,
            "ip": client.ip, "access_jti": claims["jti"], "access_exp": claims["exp"], "ttl": s.refresh_ttl})
    else:
        await cur.execute(q.TOUCH_SESSION, {"id": session_id, "access_jti": claims["jti"],
                                            "access_exp": claims["exp"], "ttl": s.refresh_ttl})
    await cur.execute(q.INSERT_REFRESH, {"token_hash": token_hash(refresh), "session_id": session_id,
                                         "ttl": s.refresh_ttl})
    await cur.execute(q.INSERT_ACCESS, {"jti": claims["jti"], "session_id": session_id, "exp": claims["exp"]})
    return Issued(access, s.access_ttl, refresh, s.refresh_ttl, session_id)


async def _deny_all(deps: Deps | Redis, user_id: int, revoked: list[tuple[Any, ...]], *also: str) -> None:
    """Denylist the access tokens of revoked sessions (rows of session id, jti or None, exp), and
    tell pushd (a ``session.revoked`` notify entry) so it closes the sockets opened with them.

    ``also`` names more revoked jtis (already denylisted by the caller).
    """
    redis = deps.redis if isinstance(deps, Deps) else deps
    jtis = [*also]
    for _sid, jti, exp in revoked:
        if jti and exp:
            await denylist.deny(redis, jti, int(exp))
            jtis.append(jti)
    if jtis:
        try:
            await streams.notify(redis, user_id, "session.revoked", {"jtis": sorted(set(jtis))})
        except (RedisError, OSError) as exc:  # the tokens are denylisted; open sockets close when they expire
            log.warning("could not tell pushd about revoked sessions: %s", exc)


async def signup(deps: Deps, *, email: str, password: str, agent: str, login: str | None,
                 display_name: str, client: Client, switches: Board | None = None) -> tuple[dict[str, Any], Issued]:
    """Create a player under the agent whose login is ``agent`` and log the new account in.

    ``switches`` (the kill switches) refuse it with 409 ``signups_suspended`` while sign-ups are off.
    """
    switches = switches or Board()
    switches.check_signup()  # the house's switch, before anything else
    await ratelimit.enforce(deps.redis, signup_limit(deps.settings), client.ip, "Too many signups; wait and retry")
    async with deps.pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(q.SELECT_AGENT_BY_LOGIN, {"login": agent.strip().lower()})
        row = await cur.fetchone()
        if row is not None and switches.has_tree_switches:
            switches.check_signup(await switch_store.master_chain(cur, int(row[0])))
    if row is None:  # checked before bcrypt, so a wrong agent code costs no hashing
        raise ValidationFailed("No active agent has that code", details={"agent": ["Unknown agent."]})
    agent_id = int(row[0])
    password_hash = await passwords.hash_password(password, deps.settings.bcrypt_cost)
    async with deps.pool.acquire() as conn, conn.cursor() as cur:
        candidates = [login] if login else [login_from_email(email)] + [
            f"{login_from_email(email)[:24]}{secrets.randbelow(10_000):04d}" for _ in range(4)]
        user = None
        for candidate in candidates:
            try:
                async with cur.begin():
                    await cur.execute(q.INSERT_USER, {"login": candidate, "email": email, "agent_id": agent_id,
                                                      "password_hash": password_hash,
                                                      "display_name": display_name or candidate})
                    user = user_dict(await cur.fetchone())
                    issued = await _issue(deps, cur, user["id"], "player", agent_id, str(uuid.uuid4()), client)
                break
            except psycopg2.errors.UniqueViolation as exc:
                if exc.diag.constraint_name == "users_email_key":
                    raise Conflict("An account with that email exists", code="email_taken",
                                   details={"email": ["Already registered."]}) from None
                if login:
                    raise Conflict("That login is taken", code="login_taken",
                                   details={"login": ["Already taken."]}) from None
        if user is None:
            raise Conflict("Could not find a free login; choose one", code="login_taken",
                           details={"login": ["Choose a login."]})
    log.info("account created", extra={"fields": {"user_id": user["id"]}})
    return user, issued


async def login(deps: Deps, *, identifier: str, password: str, client: Client) -> tuple[dict[str, Any], Issued]:
    """Check the credentials (login name or email) and open a session for the device.

    Each attempt takes a slot of the per-IP limit before bcrypt runs, so a burst cannot outrun the
    limit; a successful login gives its slot back, so only failures count.
    """
    s = deps.settings
    limit = login_limit(s)
    decision = await ratelimit.enforce(deps.redis, limit, client.ip, "Too many login attempts; wait and retry")
    ident = identifier.strip().lower()
    async with deps.pool.acquire() as conn, conn.cursor() as cur:
        if "@" in ident:
            await cur.execute(q.SELECT_USER_BY_EMAIL, {"email": ident})
        else:
            await cur.execute(q.SELECT_USER_BY_LOGIN, {"login": ident})
        row = await cur.fetchone()
    if row is not None:  # an account to protect: its own throttle, in PostgreSQL (survives Redis loss)
        policy = throttle.Policy.from_settings(s)
        verdict = await throttle.claim(deps.pool, int(row[0]), client.ip, deps.clock(), policy)
        if not verdict.allowed:
            raise _throttled(verdict)
    ok = await passwords.check_password(password, row[9] if row else None, s.bcrypt_cost)
    if row is None or not ok:
        raise Unauthorized("Wrong login or password", code="invalid_credentials")
    await throttle.succeeded(deps.pool, int(row[0]), client.ip)
    user = user_dict(row)
    if user["status"] != "active":
        raise Forbidden("This account is deactivated; contact your agent", code="account_inactive")
    await ratelimit.refund(deps.redis, limit, client.ip, decision)
    async with deps.pool.acquire() as conn, conn.cursor() as cur, cur.begin():
        issued = await _issue(deps, cur, user["id"], user["role"], user["agent_id"], str(uuid.uuid4()), client)
    return user, issued


def _throttled(verdict: throttle.Verdict) -> RateLimited:
    """The 429 of a login the account throttle refused (plain words, the wait in Retry-After)."""
    wait = max(1, math.ceil(verdict.retry_after))
    if verdict.reason == "blocked":
        message = (f"Too many wrong passwords for this account from this address. Try again in {_plain(wait)}, "
                   "or reset your password.")
    else:
        message = (f"This account had many wrong passwords lately, so new devices must wait between tries. "
                   f"Try again in {_plain(wait)}.")
    return RateLimited(message, code="login_throttled", retry_after=wait,
                       details={"reason": verdict.reason})


def _plain(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes"


async def refresh(deps: Deps, token: str, ip: str) -> Issued:
    """Rotate a refresh token. A spent one revokes its whole session (and says so), unless it comes
    back within ``AUTH_REFRESH_REUSE_GRACE`` seconds of its first use: then it is a retry."""
    await ratelimit.enforce(deps.redis, refresh_limit(deps.settings), ip, "Too many refreshes; wait and retry")
    h = token_hash(token)
    reused: list[tuple[Any, ...]] = []
    async with deps.pool.acquire() as conn, conn.cursor() as cur:
        async with cur.begin():
            await cur.execute(q.SELECT_REFRESH_FOR_UPDATE, {"token_hash": h,
                                                            "grace": deps.settings.refresh_reuse_grace})
            row = await cur.fetchone()
            if row is None:
                raise Unauthorized("Unknown refresh token", code="invalid_refresh_token")
            session_id, used, expired, revoked, reason, user_id, role, agent_id, status, retry = row
            if used and retry and not revoked and not expired and status == "active":
                # Presented again within the grace period: a retry whose answer a bad network lost, or
                # two requests of one app refreshing at once. Another pair in the same session, not a
                # revocation (the row lock makes simultaneous ones take turns).
                log.info("refresh token presented again within the grace period", extra={"fields": {
                    "user_id": user_id}})
                return await _issue(deps, cur, user_id, role, agent_id, str(session_id), None)
            if used:
                # Commit the revocation before answering: raising inside the block would roll it back.
                if not revoked:
                    await cur.execute(q.REVOKE_SESSION, {"id": session_id, "reason": "reuse"})
                    reused = list(await cur.fetchall())
            elif not revoked and not expired and status == "active":
                await cur.execute(q.MARK_REFRESH_USED, {"token_hash": h})
                return await _issue(deps, cur, user_id, role, agent_id, str(session_id), None)
    if used:
        await _deny_all(deps, user_id, reused)
        log.warning("refresh token reused; session revoked", extra={"fields": {"user_id": user_id}})
        raise Unauthorized("This refresh token was already used, so it may have been stolen: the session is "
                           "revoked on every device that shared it. Log in again.", code="refresh_token_reused")
    if revoked:
        raise Unauthorized("This session was revoked; log in again", code="session_revoked",
                           details={"reason": reason})
    if expired:
        raise Unauthorized("Refresh token expired; log in again", code="refresh_token_expired")
    raise Forbidden("This account is deactivated; contact your agent", code="account_inactive")


async def logout(deps: Deps, user_id: int, session_id: str | None, jti: str, exp: int) -> None:
    """Revoke the caller's session and the access token they used: in PostgreSQL first (the record,
    which survives Redis losing its data), then in the Redis cache."""
    revoked: list[tuple[Any, ...]] = []
    async with deps.pool.acquire() as conn, conn.cursor() as cur, cur.begin():
        await denylist.record(cur, jti, exp)
        if session_id:
            await cur.execute(q.REVOKE_USER_SESSION, {"id": session_id, "user_id": user_id, "reason": "logout"})
            revoked = list(await cur.fetchall())
    await denylist.deny(deps.redis, jti, exp)
    await _deny_all(deps, user_id, revoked, jti)


async def revoke_all(pool: aiopg.Pool, redis: Redis, user_id: int, reason: str = "deactivated") -> int:
    """Revoke every session of the user and denylist their live access tokens; returns how many sessions.

    The agent hub calls this when it deactivates a player, so the player is out at once rather
    than when the current access token expires.
    """
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(q.REVOKE_ALL_SESSIONS, {"user_id": user_id, "reason": reason})
        revoked = list(await cur.fetchall())
    await _deny_all(redis, user_id, revoked)
    return len({row[0] for row in revoked})


async def revoke_session(deps: Deps, user_id: int, session_id: str) -> bool:
    """Revoke one of the user's own sessions; False when there is no such active session."""
    async with deps.pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(q.REVOKE_USER_SESSION, {"id": session_id, "user_id": user_id, "reason": "revoked"})
        revoked = list(await cur.fetchall())
    await _deny_all(deps, user_id, revoked)
    return bool(revoked)


async def sessions(deps: Deps, user_id: int, current: str | None) -> list[dict[str, Any]]:
    """The user's active sessions, most recently used first; ``current`` marks the caller's."""
    async with deps.pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(q.SELECT_SESSIONS, {"user_id": user_id})
        rows = await cur.fetchall()
    return [{"id": str(r[0]), "device": r[1], "user_agent": r[2], "ip": r[3], "created_at": r[4].isoformat(),
             "last_used_at": r[5].isoformat(), "expires_at": r[6].isoformat(), "current": str(r[0]) == current}
            for r in rows]
