"""Receivables and payments: issued invoices become open items in the ledger; money received settles them.

Posting an invoice debits the customer's receivable with the gross and
credits revenue (net) and VAT payable (tax), per currency. Receiving money
debits the bank (or PSP clearing) account and credits the receivable; the
payment is matched to open items (referenced first, then oldest), and any
rest stays on the account as credit.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

from sqlalchemy import Engine, select, update

from libs.contracts import topics
from libs.contracts.envelope import Envelope
from libs.contracts.events import Allocation as AllocationMsg
from libs.contracts.events import InvoiceIssued, PaymentReceived
from libs.ids import new_id
from libs.money import Money
from libs.platform.inbox import first_delivery
from libs.platform.outbox import write_outbox
from services.payment_factory.adapters.tables import inbox, open_items, outbox, payments
from services.payment_factory.app.accounts import customer_account, platform_account
from services.payment_factory.adapters.double_entry import Leg, transfer as post_transfer
from services.payment_factory.domain.allocation import OpenItem, allocate_payment

CONSUMER = "payment-invoices"


class PaymentRefused(Exception):
    def __init__(self, field: str, reason: str, status: int = 422):
        super().__init__(reason)
        self.field, self.reason, self.status = field, reason, status


def post_invoice(engine: Engine, env: Envelope, inv: InvoiceIssued) -> None:
    tenant = env.tenant_id
    with engine.begin() as conn:
        if not first_delivery(conn, inbox, CONSUMER, env.id):
            return
        receivable = customer_account(conn, tenant, inv.customer_id, "receivable", inv.currency)
        revenue = platform_account(conn, tenant, "revenue", inv.currency)
        vat = platform_account(conn, tenant, "tax_payable", inv.currency)
        sign = -1 if inv.type_code == "381" else 1  # a credit note reverses
        legs = []
        if inv.net_minor:
            legs.append(Leg(receivable, revenue, abs(inv.net_minor)) if sign * inv.net_minor > 0 else Leg(revenue, receivable, abs(inv.net_minor)))
        if inv.tax_minor:
            legs.append(Leg(receivable, vat, abs(inv.tax_minor)) if sign * inv.tax_minor > 0 else Leg(vat, receivable, abs(inv.tax_minor)))
        post_transfer(conn, tenant, f"invoice:{inv.invoice_id}", inv.currency, legs, {"kind": "invoice", "invoice_id": inv.invoice_id, "number": inv.number, "credit": sign < 0})
        settled = 0
        if sign < 0 and inv.corrects_invoice_id:  # a credit note first settles what is still open on the invoice it corrects
            original = conn.execute(select(open_items).where(open_items.c.tenant_id == tenant, open_items.c.invoice_id == inv.corrects_invoice_id)).first()
            if original is not None:
                settled = min(max(original.amount_minor - original.paid_minor, 0), inv.gross_minor)
                conn.execute(update(open_items).where(open_items.c.invoice_id == original.invoice_id).values(paid_minor=open_items.c.paid_minor + settled))
        conn.execute(open_items.insert().values(
            invoice_id=inv.invoice_id, tenant_id=tenant, customer_id=inv.customer_id, number=inv.number, currency=inv.currency,
            amount_minor=sign * inv.gross_minor, paid_minor=-settled, issue_date=inv.issue_date, due_date=inv.due_date, type_code=inv.type_code))


def _request_hash(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def record_payment(engine: Engine, tenant: str, idempotency_key: str, customer_id: str, amount: Money, method: str,
                   reference: str, invoice_ids: list[str]) -> dict:
    """Record money received once per idempotency key; the same key with another body is refused."""
    body = {"customer_id": customer_id, "amount": amount.minor, "currency": amount.currency, "method": method,
            "reference": reference, "invoice_ids": sorted(invoice_ids)}
    digest = _request_hash(body)
    with engine.begin() as conn:
        prior = conn.execute(select(payments).where(payments.c.tenant_id == tenant, payments.c.idempotency_key == idempotency_key)).first()
        if prior is not None:
            if prior.request_hash != digest:
                raise PaymentRefused("Idempotency-Key", "this key was used with a different request", 409)
            return _payment_out(prior._mapping)
        stmt = select(open_items).where(open_items.c.tenant_id == tenant, open_items.c.customer_id == customer_id)
        if conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update()  # concurrent payments of one customer allocate one after the other
        items = conn.execute(stmt).all()
        currencies = {i.currency for i in items}
        if currencies and amount.currency not in currencies:
            raise PaymentRefused("currency", f"the customer's invoices are in {', '.join(sorted(currencies))}, not {amount.currency}")
        wanted = set(invoice_ids) | ({reference} if reference else set())
        unknown = [i for i in invoice_ids if i not in {x.invoice_id for x in items} | {x.number for x in items}]
        if unknown:
            raise PaymentRefused("invoice_ids", f"unknown invoice {unknown[0]!r} for this customer", 404)
        open_list = [OpenItem(i.invoice_id, i.number, i.due_date, i.amount_minor - i.paid_minor) for i in items if i.currency == amount.currency and i.amount_minor > i.paid_minor]
        allocations, rest = allocate_payment(amount.minor, open_list, wanted)
        receivable = customer_account(conn, tenant, customer_id, "receivable", amount.currency)
        source = platform_account(conn, tenant, "bank" if method in ("bank_transfer", "sepa_direct_debit", "cash") else "psp_clearing", amount.currency)
        payment_id = new_id("pay")
        post_transfer(conn, tenant, f"payment:{idempotency_key}", amount.currency, [Leg(source, receivable, amount.minor)],
                      {"kind": "payment", "payment_id": payment_id, "reference": reference, "method": method})
        for a in allocations:
            conn.execute(update(open_items).where(open_items.c.invoice_id == a.invoice_id).values(paid_minor=open_items.c.paid_minor + a.amount_minor))
        row = {"id": payment_id, "tenant_id": tenant, "idempotency_key": idempotency_key, "request_hash": digest, "customer_id": customer_id,
               "currency": amount.currency, "amount_minor": amount.minor, "method": method, "reference": reference,
               "allocations": [{"invoice_id": a.invoice_id, "amount_minor": a.amount_minor} for a in allocations],
               "received_at": datetime.now(timezone.utc)}
        conn.execute(payments.insert().values(**row))
        write_outbox(conn, outbox, tenant, topics.PAYMENTS, customer_id, PaymentReceived(
            payment_id=payment_id, customer_id=customer_id, currency=amount.currency, amount_minor=amount.minor, method=method,
            allocations=[AllocationMsg(invoice_id=a.invoice_id, amount_minor=a.amount_minor) for a in allocations]))
    return _payment_out(row)


def _payment_out(row) -> dict:
    allocated = sum(a["amount_minor"] for a in row["allocations"])
    return {"id": row["id"], "customer_id": row["customer_id"], "currency": row["currency"], "amount_minor": row["amount_minor"],
            "method": row["method"], "reference": row["reference"], "allocations": row["allocations"],
            "unallocated_minor": row["amount_minor"] - allocated, "received_at": row["received_at"]}
