"""Outgoing mail over SMTP (smtplib in a thread, so the event loop never blocks on the server).

Settings: ``smtp_host`` (empty: the message is logged without its body and not sent),
``smtp_port``, ``mail_from`` and optional STARTTLS/login. Two entry points: ``send(settings, …)``
lets SMTP errors propagate (the agent hub's reminders); ``Mailer.send`` raises ``Unavailable``
instead (auth's reset mails).
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


def build(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].rstrip(">") or None)
    msg.set_content(body)
    return msg


def _send_sync(host: str, port: int, msg: EmailMessage, timeout: float = TIMEOUT, starttls: bool = False,
               username: str = "", password: str = "") -> None:
    with smtplib.SMTP(host, port, timeout=timeout) as smtp:
        if starttls:
            smtp.starttls()
        if username:
            smtp.login(username, password)
        smtp.send_message(msg)


async def send(settings: Any, to: str, subject: str, body: str) -> bool:
    """Send one message; False when no SMTP server is configured. SMTP errors propagate."""
    if not settings.smtp_host:
        log.info("mail not sent (SMTP_HOST is empty): %s", subject)
        return False
    msg = build(settings.mail_from, to, subject, body)
    await asyncio.to_thread(_send_sync, settings.smtp_host, settings.smtp_port, msg)
    return True


@dataclass(frozen=True, slots=True)
class Mailer:
    """Sends plain-text mail through one SMTP server (parsed once from the settings)."""

    host: str
    port: int
    sender: str
    starttls: bool = False
    username: str = ""
    password: str = ""
    timeout: float = TIMEOUT

    def build(self, to: str, subject: str, body: str) -> EmailMessage:
        """The message ``send`` would deliver (pure; useful to test the content)."""
        return build(self.sender, to, subject, body)

    async def send(self, to: str, subject: str, body: str) -> bool:
        """Deliver one message (False, logged, when no host is set); ``Unavailable`` when the server fails."""
        if not self.host:
            log.info("mail not sent (SMTP_HOST is empty): %s", subject)
            return False
        msg = self.build(to, subject, body)
        try:
            await asyncio.to_thread(_send_sync, self.host, self.port, msg, self.timeout, self.starttls,
                                    self.username, self.password)
        except (OSError, smtplib.SMTPException) as exc:
            raise Unavailable(f"Mail server failed: {type(exc).__name__}", code="mail_unavailable") from None
        return True
