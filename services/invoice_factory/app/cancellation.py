"""Correcting an issued invoice: credit notes (type 381) that reference it, in full or in part.

A finalized invoice never changes. A correction is a new document with its
own number from the credit-note range and a reference to the original
(BG-3); the payment factory reverses that much of the receivable when it
sees it. A full cancellation (Stornorechnung) credits what is left of every
line and marks the original voided; a partial credit note credits chosen
amounts of chosen lines, never more than is left of a line after earlier
credit notes.

Partners' revenue shares follow the credit: each credited line takes back
the same fraction of what is left of its shares (domain/shares.py), kept on
the credit note's lines and in `share_credits` (line position -> one amount
per share of the original line), and announced per partner on its
InvoiceIssued. A line with a net of 0 is never credited, so its shares
(which sum to 0) are never taken back.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import Connection, Engine, select, update

from libs.contracts import topics
from libs.contracts.events import DraftLine, InvoiceRequested
from libs.ids import new_id
from libs.money import Money
from libs.platform.outbox import write_outbox
from services.invoice_factory.adapters.numbering import next_number
from services.invoice_factory.adapters.tables import invoices, outbox
from services.invoice_factory.app.documents import to_domain
from services.invoice_factory.app.issuing import issued_event
from services.invoice_factory.domain import compute_totals, take_back


class CannotCancel(Exception):
    pass


class InvalidCredit(Exception):
    """A credit for a line the invoice does not have, or above what is left of it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


class KeyReused(Exception):
    pass


def _credited_so_far(conn: Connection, tenant_id: str, original_id: str) -> tuple[dict[int, int], dict[int, list[int]]]:
    """Per line position of the original, the minor units already credited and the part of each share already
    taken back, by all its credit notes."""
    credited: dict[int, int] = {}
    taken: dict[int, list[int]] = {}
    rows = conn.execute(select(invoices.c.document).where(
        invoices.c.tenant_id == tenant_id, invoices.c.type_code == "381",
        invoices.c.request_id.like(f"%:{original_id}") | invoices.c.request_id.like(f"%:{original_id}:%")))
    for (document,) in rows:
        for position, amount in (document.get("credits") or {}).items():
            credited[int(position)] = credited.get(int(position), 0) + amount
        for position, amounts in (document.get("share_credits") or {}).items():
            so_far = taken.setdefault(int(position), [0] * len(amounts))
            taken[int(position)] = [a + b for a, b in zip(so_far, amounts)]
    return credited, taken


def _credit_lines(request: InvoiceRequested, credits: dict[int, int], remaining: dict[int, int],
                  taken: dict[int, list[int]]) -> tuple[list[DraftLine], dict[str, list[int]]]:
    """The credit note's lines (the original line itself where all of it is credited, else one line of the amount),
    each carrying the shares it takes back, and those take-backs per position for `share_credits`."""
    lines, share_credits = [], {}
    for position, amount in sorted(credits.items()):
        line = request.lines[position - 1]
        shares_left = [share.amount_minor - t for share, t in zip(line.shares, taken.get(position) or [0] * len(line.shares))]
        back = take_back(remaining[position], amount, shares_left)
        shares = [share.model_copy(update={"amount_minor": part}) for share, part in zip(line.shares, back)]
        if line.shares:
            share_credits[str(position)] = list(back)
        if amount == line.net_minor and remaining[position] == line.net_minor:
            lines.append(line.model_copy(update={"shares": shares}))
            continue
        price = Money(abs(amount), request.currency).amount
        lines.append(line.model_copy(update={
            "description": f"{line.description} (Pos. {position}, anteilig)", "quantity": Decimal(1), "unit_code": "C62",
            "unit_price": price, "net_minor": amount, "detail": line.detail, "shares": shares}))
    return lines, share_credits


def credit_invoice(engine: Engine, tenant_id: str, invoice_ref: str, reason: str, today: date,
                   credits: dict[int, int] | None = None, key: str = "") -> str:
    """Issue a credit note for `invoice_ref`; returns its id. `credits` maps line position to minor units;
    None cancels the whole invoice (what is left of it). The same `key` returns the same credit note."""
    with engine.begin() as conn:
        stmt = select(invoices).where(invoices.c.tenant_id == tenant_id, (invoices.c.id == invoice_ref) | (invoices.c.number == invoice_ref))
        original = conn.execute(stmt.with_for_update() if conn.dialect.name == "postgresql" else stmt).first()
        if original is None:
            raise LookupError(invoice_ref)
        request_id = f"cancel:{original.id}" if credits is None else f"credit:{original.id}:{key}"
        existing = conn.execute(select(invoices.c.id, invoices.c.document).where(
            invoices.c.tenant_id == tenant_id, invoices.c.request_id == request_id)).first()
        if existing and credits is not None:  # a repeated partial credit; a repeated cancellation is refused below
            if existing.document.get("credits") != {str(p): a for p, a in credits.items()}:
                raise KeyReused(f"idempotency key {key!r} was used for another credit note of this invoice")
            return existing.id
        if original.type_code != "380" or original.status not in ("finalized", "paid"):
            raise CannotCancel(f"invoice {original.number or original.id} is {original.status}; only issued invoices can be corrected")
        request = InvoiceRequested.model_validate(original.document["request"])
        already, taken = _credited_so_far(conn, tenant_id, original.id)
        remaining = {i + 1: line.net_minor - already.get(i + 1, 0) for i, line in enumerate(request.lines)}
        full = credits is None
        if full:
            credits = {position: left for position, left in remaining.items() if left}
        for position, amount in credits.items():
            where = f"lines[{position}]"
            if position not in remaining:
                raise InvalidCredit(where, f"the invoice has lines 1 to {len(remaining)}")
            if amount <= 0 or amount > remaining[position]:
                if not full:
                    raise InvalidCredit(where, f"credit between 0.01 and what is left of the line ({remaining[position]} minor units)")
        if not credits:
            raise CannotCancel(f"invoice {original.number} is fully credited already")
        lines, share_credits = _credit_lines(request, credits, remaining, taken)
        return _issue_credit_note(conn, tenant_id, original, request, lines, credits, share_credits, reason, today, request_id,
                                  void_original=full or credits == {p: left for p, left in remaining.items() if left})


def _issue_credit_note(conn: Connection, tenant_id: str, original, request: InvoiceRequested, lines: list[DraftLine],
                       credits: dict[int, int], share_credits: dict[str, list[int]], reason: str, today: date, request_id: str,
                       void_original: bool) -> str:
    snapshot = dict(original.document)
    credit_id = new_id("inv")
    profile = snapshot["seller_profile"]
    number = next_number(conn, tenant_id, "381", profile.get("credit_note_prefix", "GS-"))
    german = request.customer.language == "de"
    what = ("Stornierung" if void_original else "Teilgutschrift") if german else ("Cancellation" if void_original else "Partial credit")
    of = "der Rechnung" if german else "of invoice"
    snapshot.update({
        "invoice_id": credit_id, "number": number, "type_code": "381", "issue_date": today.isoformat(), "due_date": today.isoformat(),
        "preceding_number": original.number, "preceding_issue_date": original.issue_date.isoformat(),
        "notes": [f"{what} {of} {original.number} vom {original.issue_date:%d.%m.%Y}: {reason}" if german
                  else f"{what} {of} {original.number} of {original.issue_date.isoformat()}: {reason}"],
        "payment_terms": "Der Betrag wird Ihrem Konto gutgeschrieben." if german else "The amount is credited to your account.",
        "request": request.model_copy(update={"lines": lines}).model_dump(mode="json"),
        "credits": {str(position): amount for position, amount in credits.items()}, "share_credits": share_credits,
    })
    totals = compute_totals(to_domain(snapshot))
    conn.execute(invoices.insert().values(
        id=credit_id, tenant_id=tenant_id, request_id=request_id, billing_run_id=None, customer_id=original.customer_id,
        number=number, type_code="381", status="finalized", issue_date=today, due_date=today, period_start=original.period_start,
        period_end=original.period_end, currency=original.currency, net_minor=totals.net.minor, tax_minor=totals.tax.minor,
        gross_minor=totals.gross.minor, paid_minor=0, document=snapshot, problems=None, archived=False, archive_attempts=0,
        created_at=datetime.now(timezone.utc)))
    if void_original:
        conn.execute(update(invoices).where(invoices.c.id == original.id).values(status="voided"))
    write_outbox(conn, outbox, tenant_id, topics.INVOICES, original.customer_id,
                 issued_event(snapshot, totals, corrects_invoice_id=original.id))
    return credit_id


def cancel_invoice(engine: Engine, tenant_id: str, invoice_ref: str, reason: str, today: date) -> str:
    """Cancel an issued invoice in full (Stornorechnung); cancelling twice is refused."""
    return credit_invoice(engine, tenant_id, invoice_ref, reason, today)
