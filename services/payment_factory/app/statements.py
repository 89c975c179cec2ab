"""Bank statement import (camt.053/054): money in is matched to collections and open items, returns reverse payments.

Each entry is handled in its own transaction under a key made from the
bank's entry reference, so importing the same statement twice changes
nothing. A credit carrying the end-to-end id of one of our SEPA collections
pays it; any other credit is matched by an invoice number in the remittance
text. A returned debit reverses the payment it had settled (reopening its
invoices), records the reason code, and either schedules another attempt
with backoff or gives up and, for reasons like a closed account, revokes the mandate.
"""

from __future__ import annotations

import re

from sqlalchemy import Engine, select, update

from libs.money import Money
from services.payment_factory.adapters.camt import BankEntry, read_statement
from services.payment_factory.adapters.sql_ledger import SqlLedger
from services.payment_factory.adapters.tables import collections, open_items, payment_reversals
from services.payment_factory.app import mandates
from services.payment_factory.app.payments import charge_back_payment, record_payment
from services.payment_factory.domain.dunning import DunningPolicy
from services.payment_factory.domain.sepa import return_reason

WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-/]{2,}")


def import_statement(engine: Engine, books: SqlLedger, tenant: str, xml: bytes, policy: DunningPolicy) -> dict:
    entries = read_statement(xml)
    results = [_handle(engine, books, tenant, e, policy) for e in entries]
    return {"entries": len(entries), "results": results,
            "matched": sum(r["outcome"] in ("collection_paid", "invoice_paid") for r in results),
            "returns": sum(r["outcome"].startswith("returned") for r in results),
            "unmatched": sum(r["outcome"] == "unmatched" for r in results)}


def _handle(engine: Engine, books: SqlLedger, tenant: str, e: BankEntry, policy: DunningPolicy) -> dict:
    out = {"reference": e.reference, "amount_minor": e.amount_minor if e.credit else -e.amount_minor, "currency": e.currency}
    if e.is_return:
        return {**out, **_return(engine, books, tenant, e, policy)}
    if not e.credit:
        return {**out, "outcome": "ignored_debit"}
    with engine.begin() as conn:
        col = _collection(conn, tenant, e.end_to_end_id)
        if col is not None:
            paid = record_payment(engine, books, tenant, f"bank:{e.reference}", col.customer_id, Money(e.amount_minor, e.currency),
                                  "sepa_direct_debit", e.end_to_end_id or "", [], conn)
            conn.execute(update(collections).where(collections.c.id == col.id).values(status="paid", payment_id=paid["id"]))
            return {**out, "outcome": "collection_paid", "payment_id": paid["id"], "customer_id": col.customer_id}
        words = set(WORD.findall(e.remittance))
        item = conn.execute(select(open_items).where(open_items.c.tenant_id == tenant, open_items.c.number.in_(words))
                            .order_by(open_items.c.due_date)).first() if words else None
        if item is None:
            return {**out, "outcome": "unmatched", "remittance": e.remittance}
        paid = record_payment(engine, books, tenant, f"bank:{e.reference}", item.customer_id, Money(e.amount_minor, e.currency),
                              "bank_transfer", item.number, [], conn)
        return {**out, "outcome": "invoice_paid", "payment_id": paid["id"], "customer_id": item.customer_id}


def _collection(conn, tenant: str, e2e: str | None):
    if not e2e:
        return None
    return conn.execute(select(collections).where(collections.c.tenant_id == tenant, collections.c.end_to_end_id == e2e)).first()


def _return(engine: Engine, books: SqlLedger, tenant: str, e: BankEntry, policy: DunningPolicy) -> dict:
    reason = return_reason(e.return_code)
    with engine.connect() as conn:
        col = _collection(conn, tenant, e.end_to_end_id)
        done = conn.execute(select(payment_reversals.c.id).where(payment_reversals.c.tenant_id == tenant,
                                                                 payment_reversals.c.idempotency_key == f"bank-return:{e.reference}")).first()
    if col is None or col.payment_id is None:
        return {"outcome": "returned_unmatched", "return_code": reason.code}
    if done is None:
        charge_back_payment(engine, books, tenant, f"bank-return:{e.reference}", col.payment_id, f"{reason.code} {reason.text}")
    with engine.begin() as conn:
        fresh = conn.execute(select(collections).where(collections.c.id == col.id)).first()
        if fresh.status == "paid":
            next_on = policy.next_attempt(fresh.attempt, books.clock.now().date()) if reason.retry else None
            conn.execute(update(collections).where(collections.c.id == col.id).values(
                status="retry_scheduled" if next_on else "failed", next_attempt_on=next_on, return_code=reason.code))
            if reason.mandate_ends and col.mandate_id:
                mandates.revoke(conn, tenant, col.mandate_id)
            fresh = conn.execute(select(collections).where(collections.c.id == col.id)).first()
    return {"outcome": f"returned_{fresh.status}", "return_code": reason.code, "retry_on": fresh.next_attempt_on,
            "customer_id": col.customer_id}
