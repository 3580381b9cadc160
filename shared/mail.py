"""Outgoing mail over SMTP (stdlib ``smtplib`` run in a thread, so the event loop never blocks).

``Mailer`` (auth): host, port, sender and optional STARTTLS/login; ``Mailer.send`` raises
``Unavailable`` when the server cannot be reached. ``send(settings, ...)`` (agent hub): an empty
``smtp_host`` logs the message without its body instead of sending it.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from shared.errors import Unavailable

log = logging.getLogger(__name__)
TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class Mailer:
    """Sends plain-text mail through one SMTP server."""

    host: str
    port: int
    sender: str
    starttls: bool = False
    username: str = ""
    password: str = ""
    timeout: float = 10.0

    def build(self, to: str, subject: str, body: str) -> EmailMessage:
        """The message ``send`` would deliver (pure; useful to test the content)."""
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        msg["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        msg.set_content(body)
        return msg

    def _send_sync(self, msg: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(msg)

    async def send(self, to: str, subject: str, body: str) -> None:
        """Deliver one message; ``Unavailable`` when the SMTP server fails."""
        msg = self.build(to, subject, body)
        try:
            await asyncio.to_thread(self._send_sync, msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise Unavailable(f"Mail server failed: {type(exc).__name__}", code="mail_unavailable") from None


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
