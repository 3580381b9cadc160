"""Background job: delete auth rows nobody can use any more (spent and expired tokens, old sessions).

Spent refresh tokens are kept while their session lives, because reuse detection needs them;
revoked or expired sessions are kept ``KEEP_DAYS`` so a user or support can still see them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

import aiopg

from restapi.config import RestSettings
from shared.daemon import DaemonContext

log = logging.getLogger(__name__)

KEEP_DAYS = 30
INTERVAL = 3600.0

PURGE_SESSIONS = """
DELETE FROM auth_sessions
WHERE COALESCE(revoked_at, expires_at) < now() - make_interval(days => %(keep_days)s)
"""
# Tokens of a session that is over (revoked or expired) can never be presented successfully again.
PURGE_REFRESH = """
DELETE FROM refresh_tokens rt USING auth_sessions s
WHERE s.id = rt.session_id AND (s.revoked_at IS NOT NULL OR s.expires_at < now()) AND rt.expires_at < now()
"""
PURGE_RESETS = "DELETE FROM password_resets WHERE expires_at < now() - interval '1 day'"
PURGE_ACCESS = "DELETE FROM session_access_tokens WHERE expires_at < now()"
PURGE_REVOKED = "DELETE FROM revoked_access_tokens WHERE expires_at < now()"
# Throttle rows a day past their last failure are forgotten anyway (AUTH_ACCOUNT_WINDOW is at most a day).
PURGE_THROTTLE = "DELETE FROM login_throttle WHERE last_failure_at < now() - interval '1 day'"
PURGE_FAILURES = "DELETE FROM login_failures WHERE window_start < now() - interval '1 day'"


async def purge_once(pool: aiopg.Pool, keep_days: int = KEEP_DAYS) -> dict[str, int]:
    """Delete what is past use; returns the number of rows deleted per table."""
    counts: dict[str, int] = {}
    async with pool.acquire() as conn, conn.cursor() as cur:
        for table, sql in (("refresh_tokens", PURGE_REFRESH), ("auth_sessions", PURGE_SESSIONS),
                           ("password_resets", PURGE_RESETS), ("session_access_tokens", PURGE_ACCESS),
                           ("revoked_access_tokens", PURGE_REVOKED), ("login_throttle", PURGE_THROTTLE),
                           ("login_failures", PURGE_FAILURES)):
            await cur.execute(sql, {"keep_days": keep_days})
            counts[table] = cur.rowcount
    return counts


@dataclass(slots=True)
class AuthPurge:
    """Runs ``purge_once`` every ``interval`` seconds until stopped."""

    pool: aiopg.Pool
    interval: float = INTERVAL
    name: str = "auth-purge"

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                counts = await purge_once(self.pool)
                # Table names mention tokens and passwords, which the log redaction would mask.
                log.info("auth purge done", extra={"fields": {"deleted_rows": {
                    "refresh": counts["refresh_tokens"], "sessions": counts["auth_sessions"],
                    "resets": counts["password_resets"], "access": counts["session_access_tokens"],
                    "revoked": counts["revoked_access_tokens"], "throttle": counts["login_throttle"],
                    "failures": counts["login_failures"]}}})
            except Exception:  # a failed pass is retried next interval; the job must not die
                log.exception("auth purge failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval)


def auth_purge(ctx: DaemonContext, settings: RestSettings) -> AuthPurge:
    """The job factory registered in ``restapi.jobs.runner.JOBS``."""
    return AuthPurge(ctx.pg)
