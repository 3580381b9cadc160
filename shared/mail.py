"""Outgoing mail over SMTP (stdlib ``smtplib`` run in a thread, so the event loop never blocks).

Settings are host, port, sender and optional STARTTLS/login; ``Mailer.send`` raises
``Unavailable`` when the server cannot be reached or refuses the message. With no host configured
(``SMTP_HOST`` empty) a message is logged by subject only and not sent.
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

    @classmethod
    def from_settings(cls, settings: Any) -> Mailer:
        """A mailer for the SMTP_* / MAIL_FROM settings of a service."""
        return cls(settings.smtp_host, settings.smtp_port, settings.mail_from, settings.smtp_starttls,
                   settings.smtp_username, settings.smtp_password)

    def build(self, to: str, subject: str, body: str) -> EmailMessage:
        """The message ``send`` would deliver (pure; useful to test the content)."""
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        msg["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2].rstrip(">") or None)
        msg.set_content(body)
        return msg

    def _send_sync(self, msg: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(msg)

    async def send(self, to: str, subject: str, body: str) -> bool:
        """Deliver one message (False when no host is set: logged, not sent); ``Unavailable`` when the
        SMTP server fails."""
        if not self.host:
            log.info("mail not sent (SMTP_HOST is empty): %s", subject)
            return False
        msg = self.build(to, subject, body)
        try:
            await asyncio.to_thread(self._send_sync, msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise Unavailable(f"Mail server failed: {type(exc).__name__}", code="mail_unavailable") from None
        return True
