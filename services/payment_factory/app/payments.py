"""Money received and money given back: payments matched to open items, refunds and chargebacks.

Receiving money debits the bank (or PSP clearing) account and credits the
customer's receivable; the payment is matched to open items (referenced
first, then oldest due), and any rest stays on the account as credit. A
refund pays money back and reopens what it takes from settled invoices; a
chargeback is the PSP taking the whole payment back, posted as the ledger
reversal of the payment's transfer. Every write is idempotent per key.
"""

from __future__ import annotations

import hashlib
import json
from typing import Mapping

from sqlalchemy import Connection, Engine, func, select, update

from libs.contracts import topics
from libs.contracts.events import Allocation as AllocationMsg
from libs.contracts.events import PaymentReceived
from libs.ids import new_id
from libs.money import Money
from libs.platform.outbox import write_outbox
from services.payment_factory.adapters.sql_ledger import SqlLedger
from services.payment_factory.adapters.tables import open_items, outbox, payment_reversals, payments
from services.payment_factory.app.accounts import customer_account, platform_account
from services.payment_factory.app.settlement import settle_cash
from services.payment_factory.domain.allocation import Allocation, OpenItem, allocate_payment, reopen_for_refund
from services.payment_factory.domain.ledger import Leg, TransferRequest
from services.payment_factory.domain.ledger_accounts import AccountPurpose
from services.payment_factory.domain.psp import PaymentProvider

BANK_METHODS = ("bank_transfer", "sepa_direct_debit", "cash")


class PaymentRefused(Exception):
    """A payment request refused before anything was written; `field` names what was wrong."""

    def __init__(self, field: str, reason: str, status: int = 422, slug: str = "payment-refused"):
        super().__init__(reason)
        self.field, self.reason, self.status, self.slug = field, reason, status, slug


def request_hash(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def source_purpose(method: str) -> AccountPurpose:
    return AccountPurpose.BANK if method in BANK_METHODS else AccountPurpose.PSP_CLEARING


def record_payment(engine: Engine, books: SqlLedger, tenant: str, idempotency_key: str, customer_id: str, amount: Money, method: str,
                   reference: str, invoice_ids: list[str], conn: Connection | None = None) -> dict:
    """Record money received once per idempotency key; the same key with another body is refused."""
    if conn is None:
        with engine.begin() as conn:
            return record_payment(engine, books, tenant, idempotency_key, customer_id, amount, method, reference, invoice_ids, conn)
    body = {"customer_id": customer_id, "amount": amount.minor, "currency": amount.currency, "method": method,
            "reference": reference, "invoice_ids": sorted(invoice_ids)}
    digest = request_hash(body)
    prior = conn.execute(select(payments).where(payments.c.tenant_id == tenant, payments.c.idempotency_key == idempotency_key)).first()
    if prior is not None:
        if prior.request_hash != digest:
            raise PaymentRefused("Idempotency-Key", "this key was used with a different request", 409, "idempotency-conflict")
        return payment_out(prior._mapping)
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
        raise PaymentRefused("invoice_ids", f"unknown invoice {unknown[0]!r} for this customer", 404, "not-found")
    open_list = [OpenItem(i.invoice_id, i.number, i.due_date, i.amount_minor - i.paid_minor)
                 for i in items if i.currency == amount.currency and i.amount_minor > i.paid_minor]
    allocations, _rest = allocate_payment(amount.minor, open_list, wanted)
    receivable = customer_account(books, conn, tenant, customer_id, AccountPurpose.CUSTOMER_RECEIVABLE, amount.currency).id
    source = platform_account(books, conn, tenant, source_purpose(method), amount.currency).id
    payment_id = new_id("pay")
    books.transfer(conn, tenant, TransferRequest(f"payment:{idempotency_key}", (Leg(source, receivable, amount.minor, amount.currency),),
                                                 {"kind": "payment", "payment_id": payment_id, "reference": reference, "method": method}))
    _add_paid(conn, tenant, allocations, +1)
    settle_cash(conn, books, tenant, allocations, +1, "payment", payment_id)  # partners earn their share of what was paid
    row = {"id": payment_id, "tenant_id": tenant, "idempotency_key": idempotency_key, "request_hash": digest, "customer_id": customer_id,
           "currency": amount.currency, "amount_minor": amount.minor, "method": method, "reference": reference,
           "allocations": [{"invoice_id": a.invoice_id, "amount_minor": a.amount_minor} for a in allocations],
           "received_at": books.clock.now()}
    conn.execute(payments.insert().values(**row))
    write_outbox(conn, outbox, tenant, topics.PAYMENTS, customer_id, PaymentReceived(
        payment_id=payment_id, customer_id=customer_id, currency=amount.currency, amount_minor=amount.minor, method=method,
        allocations=[AllocationMsg(invoice_id=a.invoice_id, amount_minor=a.amount_minor) for a in allocations]))
    return payment_out(row)


def _add_paid(conn: Connection, tenant: str, allocations: list[Allocation], sign: int) -> None:
    for a in allocations:
        conn.execute(update(open_items).where(open_items.c.tenant_id == tenant, open_items.c.invoice_id == a.invoice_id)
                     .values(paid_minor=open_items.c.paid_minor + sign * a.amount_minor))


def payment_out(row) -> dict:
    allocated = sum(a["amount_minor"] for a in row["allocations"])
    return {"id": row["id"], "customer_id": row["customer_id"], "currency": row["currency"], "amount_minor": row["amount_minor"],
            "method": row["method"], "reference": row["reference"], "allocations": row["allocations"],
            "unallocated_minor": row["amount_minor"] - allocated, "received_at": row["received_at"]}


def _load_payment(conn: Connection, tenant: str, payment_id: str):
    stmt = select(payments).where(payments.c.tenant_id == tenant, payments.c.id == payment_id)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()  # refunds of one payment are decided one after the other
    row = conn.execute(stmt).first()
    if row is None:
        raise PaymentRefused("payment_id", f"no payment {payment_id!r} in this tenant", 404, "not-found")
    return row


def _reversed_so_far(conn: Connection, tenant: str, payment_id: str) -> tuple[int, bool]:
    r = payment_reversals.c
    rows = conn.execute(select(r.kind, func.sum(r.amount_minor)).where(r.tenant_id == tenant, r.payment_id == payment_id)
                        .group_by(r.kind)).all()
    totals = {kind: int(total) for kind, total in rows}
    return totals.get("refund", 0), "chargeback" in totals


def _replay(conn: Connection, tenant: str, key: str, digest: str) -> dict | None:
    prior = conn.execute(select(payment_reversals).where(payment_reversals.c.tenant_id == tenant,
                                                         payment_reversals.c.idempotency_key == key)).first()
    if prior is None:
        return None
    if prior.request_hash != digest:
        raise PaymentRefused("Idempotency-Key", "this key was used with a different request", 409, "idempotency-conflict")
    return reversal_out(prior._mapping)


def refund_payment(engine: Engine, books: SqlLedger, tenant: str, idempotency_key: str, payment_id: str, amount: Money,
                   reason: str, providers: Mapping[str, PaymentProvider] | None = None) -> dict:
    """Pay (part of) a payment back; more than was received and not yet refunded is refused.

    A payment taken by a provider (card, PayPal) is refunded there first, with
    a key derived from ours, so a retry after a crash refunds once; only then is
    the refund posted. A provider refusal raises ProviderError and posts nothing.
    """
    digest = request_hash({"kind": "refund", "payment_id": payment_id, "amount": amount.minor, "currency": amount.currency,
                           "reason": reason})
    with engine.begin() as conn:
        replay = _replay(conn, tenant, idempotency_key, digest)
        if replay:
            return replay
        pay = _load_payment(conn, tenant, payment_id)
        if amount.currency != pay.currency:
            raise PaymentRefused("currency", f"payment {payment_id} was received in {pay.currency}, not {amount.currency}")
        refunded, charged_back = _reversed_so_far(conn, tenant, payment_id)
        if charged_back:
            raise PaymentRefused("payment_id", f"payment {payment_id} was charged back; nothing is left to refund", 409, "refund-refused")
        if refunded + amount.minor > pay.amount_minor:
            raise PaymentRefused("amount", f"refund of {amount.minor} exceeds what is left of payment {payment_id}: "
                                           f"{pay.amount_minor - refunded} of {pay.amount_minor}", 422, "refund-exceeds-payment")
        allocs = [Allocation(a["invoice_id"], a["amount_minor"]) for a in pay.allocations]
        unallocated = pay.amount_minor - sum(a.amount_minor for a in allocs)
        reopened = reopen_for_refund(allocs, unallocated, refunded, amount.minor)
        provider = (providers or {}).get(pay.method)
        provider_ref = None
        if provider is not None and pay.reference:
            provider_ref = provider.refund(f"refund:{tenant}:{idempotency_key}", pay.reference, amount.minor).reference
        receivable = customer_account(books, conn, tenant, pay.customer_id, AccountPurpose.CUSTOMER_RECEIVABLE, pay.currency).id
        source = platform_account(books, conn, tenant, source_purpose(pay.method), pay.currency).id
        trf = books.transfer(conn, tenant, TransferRequest(f"refund:{idempotency_key}", (Leg(receivable, source, amount.minor, pay.currency),),
                                                           {"kind": "refund", "payment_id": payment_id, "reference": reason,
                                                            "provider_refund": provider_ref}))
        return _record_reversal(conn, tenant, "refund", idempotency_key, digest, pay, amount.minor, reason, trf.id, reopened, books)


def charge_back_payment(engine: Engine, books: SqlLedger, tenant: str, idempotency_key: str, payment_id: str, reason: str) -> dict:
    """The PSP took a payment back: reverse its transfer and reopen every invoice it had settled."""
    digest = request_hash({"kind": "chargeback", "payment_id": payment_id, "reason": reason})
    with engine.begin() as conn:
        replay = _replay(conn, tenant, idempotency_key, digest)
        if replay:
            return replay
        pay = _load_payment(conn, tenant, payment_id)
        refunded, charged_back = _reversed_so_far(conn, tenant, payment_id)
        if charged_back or refunded:
            raise PaymentRefused("payment_id", f"payment {payment_id} was already {'charged back' if charged_back else 'refunded'}",
                                 409, "chargeback-refused")
        original = books.transfer_by_key(conn, tenant, f"payment:{pay.idempotency_key}")
        trf = books.reverse(conn, tenant, original.id, f"chargeback:{idempotency_key}",
                            {"kind": "chargeback", "payment_id": payment_id, "reference": reason})
        reopened = [Allocation(a["invoice_id"], a["amount_minor"]) for a in pay.allocations]
        return _record_reversal(conn, tenant, "chargeback", idempotency_key, digest, pay, pay.amount_minor, reason, trf.id, reopened, books)


def _record_reversal(conn: Connection, tenant: str, kind: str, key: str, digest: str, pay, amount: int, reason: str, transfer_id: str,
                     reopened: list[Allocation], books: SqlLedger) -> dict:
    _add_paid(conn, tenant, reopened, -1)
    reversal_id = new_id("rev")
    settle_cash(conn, books, tenant, reopened, -1, kind, reversal_id)  # and give back their share of what was taken back
    row = {"id": reversal_id, "tenant_id": tenant, "payment_id": pay.id, "kind": kind, "idempotency_key": key, "request_hash": digest,
           "amount_minor": amount, "reason": reason, "transfer_id": transfer_id,
           "reopened": [{"invoice_id": a.invoice_id, "amount_minor": a.amount_minor} for a in reopened], "created_at": books.clock.now()}
    conn.execute(payment_reversals.insert().values(**row))
    return reversal_out(row)


def reversal_out(row) -> dict:
    return {k: row[k] for k in ("id", "payment_id", "kind", "amount_minor", "reason", "transfer_id", "reopened", "created_at")}

