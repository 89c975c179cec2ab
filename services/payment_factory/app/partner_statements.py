"""Partner statements: what was settled to a partner over a period, documented as a self-billing statement (389).

A statement collects the partner's settlement entries not yet stated whose
posting falls in the period (one line per invoice and kind: shares earned,
corrections), adds the partner's VAT (19 % for a German partner, reverse
charge abroad) and nets the partner's fees not yet stated. The invoice
factory issues the 389 from PartnerStatementRequested; its InvoiceIssued
marks the statement issued with its number and posts the input VAT the
partner charges us: debit tax payable, credit the partner's payable.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import Connection, Engine, select, update

from libs.contracts import topics
from libs.contracts.envelope import Envelope
from libs.contracts.events import DraftLine, InvoiceIssued, PartnerBank, PartnerStatementRequested, PartySnapshot
from libs.ids import new_id
from libs.money import Money
from libs.platform.inbox import first_delivery
from libs.platform.outbox import write_outbox
from services.payment_factory.adapters.partner_tables import partner_fees, partner_statements, settlement_entries
from services.payment_factory.adapters.sql_ledger import SqlLedger
from services.payment_factory.adapters.tables import inbox, outbox
from services.payment_factory.app.partners import PartnerRefused, load_partner, move_payable, not_found
from services.payment_factory.domain.ledger_accounts import AccountPurpose
from services.payment_factory.domain.settlement import PartnerTaxUnknown, partner_tax, statement_lines

CONSUMER = "payment-partner-statements"
log = logging.getLogger(__name__)


def _day_start(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=timezone.utc)


def _for_update(conn: Connection, stmt):
    return stmt.with_for_update() if conn.dialect.name == "postgresql" else stmt


def request_statement(engine: Engine, books: SqlLedger, tenant: str, partner_id: str, currency: str, period_start: date,
                      period_end: date) -> dict:
    if period_end < period_start:
        raise PartnerRefused("period_end", "the period ends before it starts")
    start, end = _day_start(period_start), _day_start(period_end + timedelta(days=1))
    with engine.begin() as conn:
        partner = load_partner(conn, tenant, partner_id)
        party = PartySnapshot.model_validate(partner.party)
        try:
            tax = partner_tax(party.country, party.vat_id, party.tax_number)
        except PartnerTaxUnknown as exc:
            raise PartnerRefused(exc.field, exc.reason) from None
        if partner.payout_method == "sepa" and not partner.bank:
            raise PartnerRefused("partner.bank", "the partner is paid by SEPA but has no bank account")
        e = settlement_entries.c
        entries = conn.execute(_for_update(conn, select(settlement_entries).where(
            e.tenant_id == tenant, e.partner_id == partner_id, e.currency == currency, e.statement_id.is_(None),
            e.posted_at >= start, e.posted_at < end).order_by(e.posted_at, e.id))).all()
        lines = statement_lines([(r.cause, r.number, int(r.amount_minor)) for r in entries])
        if not lines:
            raise PartnerRefused("period_start", f"nothing was settled to partner {partner_id} in {currency} in this period "
                                                 "that is not on a statement yet", 422, "no-settlement-entries")
        f = partner_fees.c
        fees = conn.execute(_for_update(conn, select(partner_fees).where(
            f.tenant_id == tenant, f.partner_id == partner_id, f.currency == currency, f.statement_id.is_(None),
            f.created_at < end))).all()
        net = sum(amount for _, amount in lines)
        statement_id = new_id("pst")
        row = {"id": statement_id, "tenant_id": tenant, "partner_id": partner_id, "currency": currency, "period_start": period_start,
               "period_end": period_end, "status": "requested", "number": None, "document_id": None, "tax_category": tax.category,
               "tax_rate": str(tax.rate), "net_minor": net, "tax_minor": tax.tax_on(Money(net, currency)).minor,
               "fees_minor": sum(int(x.amount_minor) for x in fees),
               "lines": [{"description": label, "net_minor": amount} for label, amount in lines], "payout_id": None,
               "created_at": books.clock.now(), "issued_at": None}
        conn.execute(partner_statements.insert().values(**row))
        conn.execute(update(settlement_entries).where(e.id.in_([r.id for r in entries])).values(statement_id=statement_id))
        if fees:
            conn.execute(update(partner_fees).where(f.id.in_([x.id for x in fees])).values(statement_id=statement_id))
        write_outbox(conn, outbox, tenant, topics.PAYMENTS, partner_id, PartnerStatementRequested(
            statement_id=statement_id, partner=party, bank=PartnerBank.model_validate(partner.bank) if partner.bank else None,
            currency=currency, period_start=period_start, period_end=period_end,
            lines=[DraftLine(charge_code="revenue-share", description=label, kind="revenue_share", quantity=Decimal(1),
                             unit_price=Money(amount, currency).amount, net_minor=amount, tax_category=tax.category, tax_rate=tax.rate,
                             period_start=period_start, period_end=period_end) for label, amount in lines]))
        return statement_out(row)


def statement_issued(engine: Engine, books: SqlLedger, env: Envelope, doc: InvoiceIssued) -> None:
    """The 389 for a statement was issued: record its number and post the VAT the partner charges on it."""
    tenant = env.tenant_id
    with engine.begin() as conn:
        if not first_delivery(conn, inbox, CONSUMER, env.id):
            return
        s = partner_statements.c
        st = conn.execute(_for_update(conn, select(partner_statements).where(s.tenant_id == tenant, s.id == doc.statement_id))).first()
        if st is None or st.status != "requested":
            log.warning("389 %s names statement %s in tenant %s, which is unknown or already issued", doc.number, doc.statement_id, tenant)
            return
        # the document is what counts for VAT; its tax replaces our estimate if the invoice factory rounded otherwise
        conn.execute(update(partner_statements).where(s.tenant_id == tenant, s.id == st.id).values(
            status="issued", number=doc.number, document_id=doc.invoice_id, tax_minor=doc.tax_minor, issued_at=books.clock.now()))
        if doc.tax_minor:
            move_payable(books, conn, tenant, st.partner_id, AccountPurpose.TAX_PAYABLE, doc.tax_minor, st.currency,
                         f"statement-vat:{st.id}", {"kind": "statement_vat", "statement_id": st.id, "number": doc.number})


def statement_out(row) -> dict:
    gross = row["net_minor"] + row["tax_minor"]
    return {"id": row["id"], "partner_id": row["partner_id"], "currency": row["currency"], "period_start": row["period_start"],
            "period_end": row["period_end"], "status": "paid" if row["payout_id"] else row["status"], "number": row["number"],
            "tax_category": row["tax_category"], "tax_rate": row["tax_rate"], "lines": row["lines"], "net_minor": row["net_minor"],
            "tax_minor": row["tax_minor"], "gross_minor": gross, "fees_minor": row["fees_minor"],
            "payout_due_minor": gross - row["fees_minor"], "payout_id": row["payout_id"], "created_at": row["created_at"]}


def list_statements(engine: Engine, tenant: str, partner_id: str | None) -> list[dict]:
    s = partner_statements.c
    stmt = select(partner_statements).where(s.tenant_id == tenant)
    if partner_id:
        stmt = stmt.where(s.partner_id == partner_id)
    with engine.connect() as conn:
        return [statement_out(r._mapping) for r in conn.execute(stmt.order_by(s.created_at, s.id))]


def get_statement(engine: Engine, tenant: str, statement_id: str) -> dict:
    with engine.connect() as conn:
        row = conn.execute(select(partner_statements).where(partner_statements.c.tenant_id == tenant,
                                                            partner_statements.c.id == statement_id)).first()
    if row is None:
        raise not_found("partner statement", statement_id, "statement_id")
    return statement_out(row._mapping)


def unpaid_statements(conn: Connection, tenant: str, currency: str, partner_ids: list[str] | None) -> dict[str, list]:
    """Issued statements not yet paid out, per partner."""
    s = partner_statements.c
    stmt = select(partner_statements).where(s.tenant_id == tenant, s.currency == currency, s.status == "issued", s.payout_id.is_(None))
    if partner_ids:
        stmt = stmt.where(s.partner_id.in_(partner_ids))
    out: dict[str, list] = {}
    for row in conn.execute(_for_update(conn, stmt.order_by(s.partner_id, s.created_at))):
        out.setdefault(row.partner_id, []).append(row)
    return out

