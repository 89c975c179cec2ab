"""Cancelling an issued invoice: a credit note (Stornorechnung, type 381) that references it.

A finalized invoice never changes. Its cancellation is a new document with
its own number from the credit-note range, the same lines (a credit note's
positive amounts mean money owed back), and a reference to the original
(BG-3). The original is marked voided; the payment factory reverses its
receivable when it sees the credit note.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import Engine, select, update

from libs.contracts import topics
from libs.contracts.events import InvoiceIssued, TaxSubtotal
from libs.ids import new_id
from libs.platform.outbox import write_outbox
from services.invoice_factory.adapters.numbering import next_number
from services.invoice_factory.adapters.tables import invoices, outbox
from services.invoice_factory.app.documents import to_domain
from services.invoice_factory.domain import compute_totals


class CannotCancel(Exception):
    pass


def cancel_invoice(engine: Engine, tenant_id: str, invoice_ref: str, reason: str, today: date) -> str:
    """Issue the cancellation credit note; returns its id. Cancelling twice is refused."""
    with engine.begin() as conn:
        stmt = select(invoices).where(invoices.c.tenant_id == tenant_id, (invoices.c.id == invoice_ref) | (invoices.c.number == invoice_ref))
        if conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        original = conn.execute(stmt).first()
        if original is None:
            raise LookupError(invoice_ref)
        if original.type_code != "380" or original.status not in ("finalized", "paid"):
            raise CannotCancel(f"invoice {original.number or original.id} is {original.status}; only issued invoices can be cancelled")
        snapshot = dict(original.document)
        credit_id = new_id("inv")
        profile = snapshot["seller_profile"]
        number = next_number(conn, tenant_id, "381", profile.get("credit_note_prefix", "GS-"))
        snapshot.update({"invoice_id": credit_id, "number": number, "type_code": "381", "issue_date": today.isoformat(),
                         "due_date": today.isoformat(), "preceding_number": original.number,
                         "preceding_issue_date": original.issue_date.isoformat(),
                         "notes": [f"Stornierung der Rechnung {original.number} vom {original.issue_date:%d.%m.%Y}: {reason}"],
                         "payment_terms": "Der Betrag wird Ihrem Konto gutgeschrieben."})
        totals = compute_totals(to_domain(snapshot))
        conn.execute(invoices.insert().values(
            id=credit_id, tenant_id=tenant_id, request_id=f"cancel:{original.id}", customer_id=original.customer_id, number=number,
            type_code="381", status="finalized", issue_date=today, due_date=today, period_start=original.period_start,
            period_end=original.period_end, currency=original.currency, net_minor=totals.net.minor, tax_minor=totals.tax.minor,
            gross_minor=totals.gross.minor, paid_minor=0, document=snapshot, problems=None, archived=False, archive_attempts=0,
            created_at=datetime.now(timezone.utc)))
        conn.execute(update(invoices).where(invoices.c.id == original.id).values(status="voided"))
        write_outbox(conn, outbox, tenant_id, topics.INVOICES, original.customer_id, InvoiceIssued(
            invoice_id=credit_id, number=number, type_code="381", customer_id=original.customer_id,
            customer_name=snapshot["request"]["customer"]["name"], currency=original.currency, issue_date=today, due_date=today,
            net_minor=totals.net.minor, tax_minor=totals.tax.minor, gross_minor=totals.gross.minor,
            tax_breakdown=[TaxSubtotal(category=s.category.value, rate=s.rate, net_minor=s.basis.minor, tax_minor=s.tax.minor) for s in totals.breakdown],
            corrects_invoice_id=original.id))
        return credit_id
