"""Password reset by mailed link: single-use tokens that expire (30 min by default).

``request_reset`` answers nothing about whether the email exists; the route runs it in the
background so even the response time is the same. ``confirm_reset`` sets the new password, spends
every outstanding link of the user and revokes all their sessions.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from restapi.auth import passwords, service, throttle
from restapi.auth import queries as q
from shared import ratelimit
from shared.errors import BadRequest
from shared.mail import Mailer

log = logging.getLogger(__name__)

SUBJECT = "Reset your WagerBabe password"


def reset_link(base_url: str, token: str) -> str:
    """The link mailed to the user (the web page posts the token to password-reset/confirm)."""
    return f"{base_url.rstrip('/')}/reset-password?token={quote(token)}"


def reset_body(link: str, minutes: int) -> str:
    """The plain-text mail a reset request sends."""
    return (
        "Someone asked to reset the password of your WagerBabe account.\n\n"
        f"Open this link within {minutes} minutes to choose a new password:\n\n{link}\n\n"
        "The link works once. If you did not ask for it, ignore this mail: your password stays the same.\n"
    )


async def request_reset(deps: service.Deps, mailer: Mailer, email: str, base_url: str) -> bool:
    """Mail a reset link when an active account has ``email``; True when a mail was sent (False also
    when no SMTP server is configured: the link is then never shown anywhere)."""
    async with deps.pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(q.SELECT_USER_BY_EMAIL, {"email": email})
        row = await cur.fetchone()
        if row is None or row[7] != "active":
            return False
        token = service.new_secret()
        await cur.execute(q.INSERT_RESET, {"token_hash": service.token_hash(token), "user_id": row[0],
                                           "ttl": deps.settings.reset_ttl})
    body = reset_body(reset_link(base_url, token), deps.settings.reset_ttl // 60)
    sent = await mailer.send(email, SUBJECT, body)
    if sent:
        log.info("password reset mailed", extra={"fields": {"user_id": row[0]}})
    return sent


async def confirm_reset(deps: service.Deps, token: str, password: str, ip: str) -> int:
    """Set a new password with a reset token; returns the user id. 400 for an unknown/used/expired token."""
    await ratelimit.enforce(deps.redis, service.reset_limit(deps.settings), ip, "Too many attempts; wait and retry")
    # Hash first: bcrypt must not run while the row lock is held.
    password_hash = await passwords.hash_password(password, deps.settings.bcrypt_cost)
    async with deps.pool.acquire() as conn, conn.cursor() as cur:
        async with cur.begin():
            await cur.execute(q.SELECT_RESET_FOR_UPDATE, {"token_hash": service.token_hash(token)})
            row = await cur.fetchone()
            if row is None:
                raise BadRequest("This reset link is not valid", code="invalid_reset_token")
            user_id, used, expired, status = row
            if used:
                raise BadRequest("This reset link was already used", code="reset_token_used")
            if expired:
                raise BadRequest("This reset link has expired; ask for a new one", code="reset_token_expired")
            if status != "active":
                raise BadRequest("This account is deactivated; contact your agent", code="account_inactive")
            await cur.execute(q.UPDATE_PASSWORD, {"id": user_id, "password_hash": password_hash})
            await cur.execute(q.SPEND_RESETS, {"user_id": user_id})
            await throttle.clear(cur, user_id)  # the owner proved who they are: no slow-down left for them
    await service.revoke_all(deps.pool, deps.redis, user_id, "password_reset")
    log.info("password reset", extra={"fields": {"user_id": user_id}})
    return int(user_id)
