"""Settlement: partners' shares of what invoices have settled, posted to their payables as deltas.

Called inside the transaction that changes what an invoice has settled (its
issue, a payment allocated to it, a refund or chargeback reopening it, a
credit note correcting it), so the books and the settlement never disagree.
Each call recomputes every partner's target from the invoice's effective
amounts and posts only the difference from what was posted before: debit
revenue, credit the partner's payable (a negative difference the reverse).
A change is keyed by invoice, partner, cause and what caused it, in the
ledger and in the settlement entries, so a replay posts nothing twice.
"""

from __future__ import annotations

import logging
from typing import Iterable

from sqlalchemy import Connection, func, select, update

from libs.contracts.events import InvoiceIssued
from libs.ids import new_id
from libs.platform.inbox import insert_ignoring_duplicates
from services.payment_factory.adapters.partner_tables import invoice_shares, settled_invoices, settlement_entries
from services.payment_factory.adapters.sql_ledger import SqlLedger
from services.payment_factory.app.partners import move_payable, settlement_basis
from services.payment_factory.domain.allocation import Allocation
from services.payment_factory.domain.ledger_accounts import AccountPurpose
from services.payment_factory.domain.settlement import (InvoiceParts, SettlementBasis, SettlementError, deltas, partner_targets,
                                                        settled_amount)

log = logging.getLogger(__name__)


def record_invoice(conn: Connection, books: SqlLedger, tenant: str, inv: InvoiceIssued) -> None:
    """An issued invoice with shares starts its settlement; a credit note with shares reduces the invoice it corrects."""
    if inv.type_code == "381":
        if inv.corrects_invoice_id:
            _credit(conn, books, tenant, inv)
        return
    if not inv.shares:
        return
    prepaid = min(inv.prepaid_minor, inv.gross_minor)
    fresh = insert_ignoring_duplicates(conn, settled_invoices, [{
        "tenant_id": tenant, "invoice_id": inv.invoice_id, "number": inv.number, "currency": inv.currency,
        "basis": settlement_basis(conn, tenant).value, "net_minor": inv.net_minor, "tax_minor": inv.tax_minor, "cash_minor": prepaid,
        "created_at": books.clock.now()}], ["tenant_id", "invoice_id"])
    if not fresh:
        return
    totals: dict[str, int] = {}
    for s in inv.shares:
        totals[s.partner_id] = totals.get(s.partner_id, 0) + s.net_minor
    conn.execute(invoice_shares.insert(), [{"tenant_id": tenant, "invoice_id": inv.invoice_id, "partner_id": p, "amount_minor": a}
                                           for p, a in sorted(totals.items())])
    resettle(conn, books, tenant, inv.invoice_id, "issue", inv.invoice_id)


def _credit(conn: Connection, books: SqlLedger, tenant: str, cn: InvoiceIssued) -> None:
    original = _lock(conn, tenant, cn.corrects_invoice_id)
    if original is None:
        return
    parts = _parts(conn, tenant, original)
    taken: dict[str, int] = {}
    for s in cn.shares:
        taken[s.partner_id] = taken.get(s.partner_id, 0) + s.net_minor
    left = parts.less(cn.net_minor, cn.tax_minor, taken)
    i, sh = settled_invoices.c, invoice_shares.c
    conn.execute(update(settled_invoices).where(i.tenant_id == tenant, i.invoice_id == original.invoice_id)
                 .values(net_minor=left.net_minor, tax_minor=left.tax_minor))
    for partner, amount in left.shares:
        done = conn.execute(update(invoice_shares).where(sh.tenant_id == tenant, sh.invoice_id == original.invoice_id,
                                                         sh.partner_id == partner).values(amount_minor=amount))
        if not done.rowcount:
            conn.execute(invoice_shares.insert().values(tenant_id=tenant, invoice_id=original.invoice_id, partner_id=partner,
                                                        amount_minor=amount))
    resettle(conn, books, tenant, original.invoice_id, "credit_note", cn.invoice_id)


def settle_cash(conn: Connection, books: SqlLedger, tenant: str, allocations: Iterable[Allocation], sign: int, cause: str,
                caused_by: str) -> None:
    """Money allocated to invoices (sign +1) or taken back from them (-1): their partners' settled shares follow."""
    i = settled_invoices.c
    for a in allocations:
        done = conn.execute(update(settled_invoices).where(i.tenant_id == tenant, i.invoice_id == a.invoice_id)
                            .values(cash_minor=i.cash_minor + sign * a.amount_minor))
        if done.rowcount:
            resettle(conn, books, tenant, a.invoice_id, cause, caused_by)


def _lock(conn: Connection, tenant: str, invoice_id: str):
    stmt = select(settled_invoices).where(settled_invoices.c.tenant_id == tenant, settled_invoices.c.invoice_id == invoice_id)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()  # changes to one invoice's settlement happen one after the other
    return conn.execute(stmt).first()


def _parts(conn: Connection, tenant: str, inv) -> InvoiceParts:
    sh = invoice_shares.c
    rows = conn.execute(select(sh.partner_id, sh.amount_minor).where(sh.tenant_id == tenant, sh.invoice_id == inv.invoice_id)
                        .order_by(sh.partner_id)).all()
    return InvoiceParts(int(inv.net_minor), int(inv.tax_minor), tuple((r.partner_id, int(r.amount_minor)) for r in rows))


def posted_shares(conn: Connection, tenant: str, invoice_id: str) -> dict[str, int]:
    e = settlement_entries.c
    rows = conn.execute(select(e.partner_id, func.sum(e.amount_minor)).where(e.tenant_id == tenant, e.invoice_id == invoice_id)
                        .group_by(e.partner_id)).all()
    return {p: int(total) for p, total in rows}


def resettle(conn: Connection, books: SqlLedger, tenant: str, invoice_id: str, cause: str, caused_by: str) -> list[dict]:
    """Bring the invoice's partner postings to their targets; returns the settlement entries written."""
    inv = _lock(conn, tenant, invoice_id)
    if inv is None:
        return []
    parts = _parts(conn, tenant, inv)
    settled = settled_amount(SettlementBasis(inv.basis), int(inv.cash_minor), parts.gross_minor)
    try:
        targets = partner_targets(parts, settled)
    except SettlementError as exc:  # a correction left a negative part: keep what was posted, say so
        log.warning("invoice %s in tenant %s not settled: %s", invoice_id, tenant, exc)
        return []
    if cause == "issue":
        cause = "accrual" if inv.basis == SettlementBasis.ACCRUAL.value else "prepaid"
    written = []
    for partner, delta in deltas(targets, posted_shares(conn, tenant, invoice_id)).items():
        key = f"settle:{invoice_id}:{partner}:{cause}:{caused_by}"
        transfer_id = move_payable(books, conn, tenant, partner, AccountPurpose.REVENUE, delta, inv.currency, key,
                                   {"kind": "revenue_share", "invoice_id": invoice_id, "number": inv.number, "cause": cause})
        row = {"id": new_id("sete"), "tenant_id": tenant, "invoice_id": invoice_id, "number": inv.number, "partner_id": partner,
               "currency": inv.currency, "amount_minor": delta, "cause": cause, "caused_by": caused_by, "transfer_id": transfer_id,
               "statement_id": None, "posted_at": books.clock.now()}
        conn.execute(settlement_entries.insert().values(**row))
        written.append(row)
    return written


def settlement_view(conn: Connection, tenant: str, invoice_id: str) -> dict | None:
    """An invoice's effective parts, what counts as settled, and each partner's settled share so far."""
    inv = conn.execute(select(settled_invoices).where(settled_invoices.c.tenant_id == tenant,
                                                      settled_invoices.c.invoice_id == invoice_id)).first()
    if inv is None:
        return None
    parts = _parts(conn, tenant, inv)
    posted = posted_shares(conn, tenant, invoice_id)
    return {"invoice_id": invoice_id, "number": inv.number, "currency": inv.currency, "basis": inv.basis,
            "net_minor": parts.net_minor, "tax_minor": parts.tax_minor, "gross_minor": parts.gross_minor,
            "settled_minor": settled_amount(SettlementBasis(inv.basis), int(inv.cash_minor), parts.gross_minor),
            "partners": [{"partner_id": p, "share_minor": a, "settled_minor": posted.get(p, 0)} for p, a in parts.shares]}
