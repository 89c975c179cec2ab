"""Receivables: issued invoices become open items and ledger transfers.

Posting an invoice debits the customer's receivable with the gross and
credits revenue (net) and tax payable (tax), in one multi-leg transfer keyed
by the invoice id, so a redelivered InvoiceIssued posts nothing twice. A
credit note (type 381) moves the other way and first settles what is still
open on the invoice it corrects.
"""

from __future__ import annotations

from sqlalchemy import Engine, select, update

from libs.contracts.envelope import Envelope
from libs.contracts.events import InvoiceIssued
from libs.platform.inbox import first_delivery
from services.payment_factory.adapters.sql_ledger import SqlLedger
from services.payment_factory.adapters.tables import inbox, open_items
from services.payment_factory.app.accounts import customer_account, platform_account
from services.payment_factory.app.settlement import record_invoice
from services.payment_factory.domain.ledger import Leg, TransferRequest
from services.payment_factory.domain.ledger_accounts import AccountPurpose

CONSUMER = "payment-invoices"


def _leg(customer: str, other: str, amount: int, currency: str, charge: bool) -> Leg:
    """A charge debits the customer; a credit (or a negative line on an invoice) credits them."""
    return Leg(customer, other, abs(amount), currency) if charge else Leg(other, customer, abs(amount), currency)


def post_invoice(engine: Engine, books: SqlLedger, env: Envelope, inv: InvoiceIssued) -> None:
    if inv.type_code == "389":
        return  # a self-billing statement is what we owe a partner, never a customer's receivable (see partner_statements)
    tenant = env.tenant_id
    with engine.begin() as conn:
        if not first_delivery(conn, inbox, CONSUMER, env.id):
            return
        receivable = customer_account(books, conn, tenant, inv.customer_id, AccountPurpose.CUSTOMER_RECEIVABLE, inv.currency).id
        revenue = platform_account(books, conn, tenant, AccountPurpose.REVENUE, inv.currency).id
        vat = platform_account(books, conn, tenant, AccountPurpose.TAX_PAYABLE, inv.currency).id
        sign = -1 if inv.type_code == "381" else 1
        legs = [_leg(receivable, other, amount, inv.currency, sign * amount > 0)
                for other, amount in ((revenue, inv.net_minor), (vat, inv.tax_minor)) if amount]
        if legs:
            books.transfer(conn, tenant, TransferRequest(f"invoice:{inv.invoice_id}", tuple(legs), {
                "kind": "invoice", "invoice_id": inv.invoice_id, "number": inv.number, "credit": sign < 0}))
        settled = 0
        if sign < 0 and inv.corrects_invoice_id:
            original = conn.execute(select(open_items).where(open_items.c.tenant_id == tenant,
                                                             open_items.c.invoice_id == inv.corrects_invoice_id)).first()
            if original is not None:
                settled = min(max(original.amount_minor - original.paid_minor, 0), inv.gross_minor)
                conn.execute(update(open_items).where(open_items.c.tenant_id == tenant, open_items.c.invoice_id == original.invoice_id)
                             .values(paid_minor=open_items.c.paid_minor + settled))
        conn.execute(open_items.insert().values(
            invoice_id=inv.invoice_id, tenant_id=tenant, customer_id=inv.customer_id, number=inv.number, currency=inv.currency,
            # what the prepaid wallet already paid during the period (wallet -> receivable) counts as paid
            amount_minor=sign * inv.gross_minor, paid_minor=-settled + (min(inv.prepaid_minor, inv.gross_minor) if sign > 0 else 0),
            issue_date=inv.issue_date, due_date=inv.due_date,
            type_code=inv.type_code))
        record_invoice(conn, books, tenant, inv)  # partners' shares, settled from here on
