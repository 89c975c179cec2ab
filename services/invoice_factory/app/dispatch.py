"""E-mail dispatch of archived invoices to customers who asked for it.

Runs after archiving, from the archived bytes (what the customer receives is
exactly what the archive holds). Sent once: the row is claimed, and marked in
the same transaction after the server accepted the message; a failure is
counted and retried later by the worker's backoff, after the messages
that have failed less often, so one bad address never holds back the rest.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Protocol

from sqlalchemy import Engine, select, update

from libs.platform.blobstore import BlobStore
from services.invoice_factory.adapters.tables import invoices

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 10
KINDS = {"380": "Rechnung", "381": "Rechnungskorrektur", "384": "korrigierte Rechnung", "389": "Gutschrift"}


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str, attachments: list[tuple[str, bytes, str]]) -> None: ...


class Dispatcher:
    def __init__(self, engine: Engine, blobs: BlobStore, mailer: Mailer):
        self._engine, self._blobs, self._mailer = engine, blobs, mailer

    def dispatch_next(self) -> bool:
        with self._engine.connect() as conn, conn.begin():
            stmt = (select(invoices).where(invoices.c.archived.is_(True), invoices.c.email_to.is_not(None), invoices.c.emailed_at.is_(None),
                                           invoices.c.email_attempts < MAX_ATTEMPTS)
                    .order_by(invoices.c.email_attempts, invoices.c.created_at).limit(1))  # a failing address falls behind the rest
            if conn.dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            row = conn.execute(stmt).first()
            if row is None:
                return False
            seller = (row.document.get("seller_profile") or {}).get("seller", {}).get("name", "")
            kind = KINDS.get(row.type_code, "Rechnung")
            try:
                self._mailer.send(
                    row.email_to, f"{kind} {row.number} von {seller}",
                    f"Guten Tag,\n\nim Anhang finden Sie {kind} {row.number} über {row.gross_minor / 100:.2f} {row.currency} "
                    f"als PDF mit eingebetteter E-Rechnung (ZUGFeRD) sowie als XML.\n\nMit freundlichen Grüßen\n{seller}\n",
                    [(f"{row.number}.pdf", self._blobs.get(row.pdf_key), "application/pdf"),
                     (f"{row.number}.xml", self._blobs.get(row.xml_key), "application/xml")])
            except OSError as exc:  # smtplib errors are OSErrors too
                log.warning("e-mail for %s failed: %s", row.number, exc)
                conn.execute(update(invoices).where(invoices.c.id == row.id).values(email_attempts=invoices.c.email_attempts + 1))
                return False
            conn.execute(update(invoices).where(invoices.c.id == row.id).values(emailed_at=datetime.now(timezone.utc)))
        return True
