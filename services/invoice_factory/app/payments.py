"""Keeping invoice payment status in step with the payment factory's allocations."""

from __future__ import annotations

from sqlalchemy import Engine, case, update

from libs.contracts.envelope import Envelope
from libs.contracts.events import PaymentReceived
from libs.platform.inbox import first_delivery
from services.invoice_factory.adapters.tables import inbox, invoices

CONSUMER = "invoice-payments"


def apply_payment(engine: Engine, env: Envelope, payment: PaymentReceived) -> None:
    with engine.begin() as conn:
        if not first_delivery(conn, inbox, CONSUMER, env.id):
            return
        for alloc in payment.allocations:
            paid = invoices.c.paid_minor + alloc.amount_minor
            conn.execute(
                update(invoices)
                .where(invoices.c.tenant_id == env.tenant_id, invoices.c.id == alloc.invoice_id)
                .values(paid_minor=paid, status=case((paid >= invoices.c.gross_minor, "paid"), else_=invoices.c.status))
            )
