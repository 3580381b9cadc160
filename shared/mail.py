"""Outgoing mail over SMTP (smtplib in a thread, so the event loop never blocks on the server).

Settings: ``smtp_host`` (empty: the message is logged without its body and not sent),
``smtp_port`` and ``mail_from``.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from email.message import EmailMessage
from typing import Any

log = logging.getLogger(__name__)
TIMEOUT = 10.0


def build(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg.set_content(body)
    return msg


def _send_sync(host: str, port: int, msg: EmailMessage) -> None:
    with smtplib.SMTP(host, port, timeout=TIMEOUT) as smtp:
        smtp.send_message(msg)


async def send(settings: Any, to: str, subject: str, body: str) -> bool:
    """Send one message; False when no SMTP server is configured. SMTP errors propagate."""
    if not settings.smtp_host:
        log.info("mail not sent (SMTP_HOST is empty): %s", subject)
        return False
    msg = build(settings.mail_from, to, subject, body)
    await asyncio.to_thread(_send_sync, settings.smtp_host, settings.smtp_port, msg)
    return True
