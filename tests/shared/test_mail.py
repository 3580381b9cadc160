"""SMTP delivery through a real aiosmtpd server, and a clear error when the server is down."""

from __future__ import annotations

import pytest

from devtools.devservers import free_port
from shared.errors import Unavailable
from shared.mail import Mailer
from tests.helpers import Inbox, wait_for


async def test_mail_is_delivered_with_sender_subject_and_body(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    mailer = Mailer("127.0.0.1", port, "WagerBabe <no-reply@wagerbabe.test>")
    await mailer.send("someone@example.com", "Hello", "Line one\nLine two é\n")
    await wait_for(lambda: bool(inbox.messages), what="the message")
    msg = inbox.messages[0]
    assert msg["From"] == "WagerBabe <no-reply@wagerbabe.test>" and msg["To"] == "someone@example.com"
    assert msg["Subject"] == "Hello" and msg["Message-ID"]
    payload = msg.get_payload(decode=True)
    assert isinstance(payload, bytes) and "Line two é" in payload.decode(msg.get_content_charset() or "utf-8")


async def test_unreachable_server_is_unavailable() -> None:
    mailer = Mailer("127.0.0.1", free_port(), "x@wagerbabe.test", timeout=2)
    with pytest.raises(Unavailable):
        await mailer.send("someone@example.com", "Hello", "body")
