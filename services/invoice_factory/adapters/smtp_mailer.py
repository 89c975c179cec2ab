"""Sending an invoice by e-mail over SMTP: the PDF/A-3 (with its embedded e-invoice) and the XML attached."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage


class SmtpMailer:
    def __init__(self, host: str, port: int, sender: str, starttls: bool = True, user: str | None = None, password: str | None = None):
        self._host, self._port, self._sender = host, port, sender
        self._starttls, self._user, self._password = starttls, user, password

    def send(self, to: str, subject: str, body: str, attachments: list[tuple[str, bytes, str]]) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self._sender, to, subject
        message.set_content(body)
        for filename, data, mime in attachments:
            maintype, subtype = mime.split("/", 1)
            message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
        with smtplib.SMTP(self._host, self._port, timeout=20) as smtp:
            if self._starttls:
                smtp.starttls()
            if self._user:
                smtp.login(self._user, self._password or "")
            smtp.send_message(message)
