"""Password reset through a real SMTP server: mailed link, single use, expiry, same answer for all."""

from __future__ import annotations

import re
from email.message import Message

from aiohttp.test_utils import TestClient

from restapi.keys import TASKS
from tests.helpers import wait_for
from tests.restapi.auth.conftest import Inbox, bearer, login, sql

API = "/api/v1/auth/password-reset"


def _token(message: Message) -> str:
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    match = re.search(r"/reset-password\?token=([A-Za-z0-9_-]+)", body.decode())
    assert match, body
    return match.group(1)


async def _mail_for(inbox: Inbox, to: str) -> Message:
    await wait_for(lambda: any(m["To"] == to for m in inbox.messages), what=f"a mail to {to}")
    return next(m for m in inbox.messages if m["To"] == to)


async def test_reset_link_is_mailed_works_once_and_logs_out_every_device(
    client: TestClient, smtp: tuple[Inbox, int]
) -> None:
    inbox = smtp[0]
    old = await login(client)
    resp = await client.post(f"{API}/request", json={"email": " Player01@wagerbabe.test"})
    assert resp.status == 202
    mail = await _mail_for(inbox, "player01@wagerbabe.test")
    assert mail["From"] == "WagerBabe <no-reply@wagerbabe.test>" and "password" in mail["Subject"].lower()
    token = _token(mail)

    resp = await client.post(f"{API}/confirm", json={"token": token, "password": "brand-new-pass-1"})
    assert resp.status == 200, await resp.json()
    assert (await client.get("/api/v1/auth/me", headers=bearer(old))).status == 401
    resp = await client.post("/api/v1/auth/refresh", json={"refresh_token": old["refresh_token"]})
    assert resp.status == 401
    bad = await client.post("/api/v1/auth/login", json={"login": "player01", "password": "player-pass-123"})
    assert bad.status == 401
    await login(client, "player01", "brand-new-pass-1")

    again = await client.post(f"{API}/confirm", json={"token": token, "password": "another-pass-2"})
    assert again.status == 400 and (await again.json())["error"] == "reset_token_used"


async def test_unknown_email_gets_the_same_answer_and_no_mail(client: TestClient, smtp: tuple[Inbox, int]) -> None:
    inbox = smtp[0]
    unknown = await client.post(f"{API}/request", json={"email": "nobody@wagerbabe.test"})
    known = await client.post(f"{API}/request", json={"email": "player02@wagerbabe.test"})
    assert unknown.status == known.status == 202
    assert await unknown.json() == await known.json()
    await _mail_for(inbox, "player02@wagerbabe.test")
    await wait_for(lambda: not client.app[TASKS], what="background reset work to finish")
    assert all(m["To"] != "nobody@wagerbabe.test" for m in inbox.messages)


async def test_expired_and_unknown_reset_tokens_are_refused(
    client: TestClient, smtp: tuple[Inbox, int], database_url: str
) -> None:
    await client.post(f"{API}/request", json={"email": "player01@wagerbabe.test"})
    token = _token(await _mail_for(smtp[0], "player01@wagerbabe.test"))
    rows = await sql(database_url, "SELECT expires_at - created_at FROM password_resets")
    assert [r[0].total_seconds() for r in rows] == [1800.0]
    await sql(database_url, "UPDATE password_resets SET expires_at = now() - interval '1 second'")
    resp = await client.post(f"{API}/confirm", json={"token": token, "password": "brand-new-pass-1"})
    assert resp.status == 400 and (await resp.json())["error"] == "reset_token_expired"
    resp = await client.post(f"{API}/confirm", json={"token": "made-up", "password": "brand-new-pass-1"})
    assert resp.status == 400 and (await resp.json())["error"] == "invalid_reset_token"
    resp = await client.post(f"{API}/confirm", json={"token": token, "password": "short"})
    assert resp.status == 422
