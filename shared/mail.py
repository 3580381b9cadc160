"""Outgoing mail over SMTP (stdlib ``smtplib`` run in a thread, so the event loop never blocks).

Settings are host, port, sender and optional STARTTLS/login; ``Mailer.send`` raises
``Unavailable`` when the server cannot be reached or refuses the message.
"""

from __future__ import annotations

import asyncio
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from shared.errors import Unavailable


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
