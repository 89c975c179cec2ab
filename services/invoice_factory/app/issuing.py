"""Issuing invoices from the billing factory's requests.

One transaction: inbox check, completeness check (before any number is
taken), number from the gap-free range, the finalized invoice, and the
InvoiceIssued event in the outbox. Rendering and archiving happen after the
commit (app/archiving.py), so a slow or absent S3 never holds a number back
and never un-finalizes an invoice.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import Connection, Engine, select

from libs.contracts import topics
from libs.contracts.envelope import Envelope
from libs.contracts.events import InvoiceIssued, InvoiceRequested, TaxSubtotal
from libs.ids import new_id
from libs.platform.inbox import first_delivery
from libs.platform.outbox import write_outbox
from services.invoice_factory.adapters.numbering import next_number
from services.invoice_factory.adapters.tables import inbox, invoices, outbox, seller_profiles
from services.invoice_factory.app.documents import document_snapshot, profile_of, to_domain
from services.invoice_factory.domain import check_issuable, compute_totals

CONSUMER = "invoice-issue"


def load_profile(conn: Connection, tenant_id: str) -> dict | None:
    row = conn.execute(select(seller_profiles.c.profile).where(seller_profiles.c.tenant_id == tenant_id)).first()
    return row.profile if row else None


def issue_invoice(engine: Engine, env: Envelope, request: InvoiceRequested, today: date) -> str | None:
    """Issue one invoice for a request; returns the invoice id (existing one on a repeat)."""
    tenant_id = env.tenant_id
    with engine.begin() as conn:
        if not first_delivery(conn, inbox, CONSUMER, env.id):
            return None
        existing = conn.execute(select(invoices.c.id).where(invoices.c.tenant_id == tenant_id, invoices.c.request_id == request.request_id)).scalar()
        if existing:
            return existing
        invoice_id = new_id("inv")
        profile = load_profile(conn, tenant_id)
        snapshot = document_snapshot(request, profile, invoice_id, today)
        draft = to_domain(snapshot) if profile else None
        problems = [{"field": "invoice-settings", "message": "the tenant has no seller profile (PUT /v1/invoice-settings)"}] if profile is None else [
            {"field": p.field, "message": p.reason} for p in check_issuable(draft, profile_of(snapshot["flavour"]))
        ]
        row = {
            "id": invoice_id, "tenant_id": tenant_id, "request_id": request.request_id, "customer_id": request.customer.id,
            "type_code": snapshot["type_code"], "period_start": request.period_start, "period_end": request.period_end,
            "currency": request.currency, "paid_minor": 0, "archived": False, "archive_attempts": 0,
            "created_at": datetime.now(timezone.utc),
        }
        if problems:
            conn.execute(invoices.insert().values(**row, status="rejected", net_minor=0, tax_minor=0, gross_minor=0, document=snapshot, problems=problems))
            return invoice_id
        prefix = profile.get("credit_note_prefix", "GS-") if snapshot["type_code"] == "381" else profile.get("invoice_prefix", "RE-")
        number = next_number(conn, tenant_id, snapshot["type_code"], prefix)
        snapshot["number"] = number
        totals = compute_totals(replace(draft, number=number))
        email_to = request.customer.email if request.customer.email_invoices else None
        conn.execute(invoices.insert().values(
            **row, email_to=email_to, status="finalized", number=number, issue_date=today, due_date=date.fromisoformat(snapshot["due_date"]),
            net_minor=totals.net.minor, tax_minor=totals.tax.minor, gross_minor=totals.gross.minor, document=snapshot, problems=None,
        ))
        write_outbox(conn, outbox, tenant_id, topics.INVOICES, request.customer.id, InvoiceIssued(
            invoice_id=invoice_id, number=number, type_code=snapshot["type_code"], customer_id=request.customer.id,
            customer_name=request.customer.name, currency=request.currency, issue_date=today,
            due_date=date.fromisoformat(snapshot["due_date"]), net_minor=totals.net.minor, tax_minor=totals.tax.minor,
            gross_minor=totals.gross.minor,
            tax_breakdown=[TaxSubtotal(category=s.category.value, rate=s.rate, net_minor=s.basis.minor, tax_minor=s.tax.minor) for s in totals.breakdown],
        ))
        return invoice_id


def retain_until(issue: date, years: int) -> datetime:
    """Retention runs to the end of the calendar year in which the period started, plus the legal years (AO §147 (4))."""
    return datetime(issue.year + years, 12, 31, 23, 59, 59, tzinfo=timezone.utc) + timedelta(seconds=1)
