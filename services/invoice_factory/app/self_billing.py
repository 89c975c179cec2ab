"""Self-billing statements (Gutschrift, type 389): the tenant documents what it owes a partner.

Under § 14 Abs. 2 Satz 5 UStG the recipient of a service may issue the
invoice for it, if agreed; the document must say "Gutschrift". The partner
is the seller on it, the tenant the buyer, and the amount is paid out to the
partner's account. It takes its number from its own gap-free range and is
archived and validated like every invoice. Partner settlement (revenue
sharing) posts the payable in the ledger; the statement posts nothing.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from libs.contracts.events import DraftLine, InvoiceRequested, PartySnapshot
from services.invoice_factory.app.issuing import create_document


def issue_self_billing(engine: Engine, tenant_id: str, statement: dict, today: date) -> str:
    """Issue (or, for a known statement_id, find) the statement; returns the invoice id.

    Raises NotIssuableDraft, storing nothing, when the statement lacks what § 14 UStG requires.
    """
    partner = dict(statement["partner"])
    bank = partner.pop("bank")
    request = InvoiceRequested(
        request_id=f"self-billing:{statement['statement_id']}", billing_run_id=f"self-billing:{statement['statement_id']}",
        subscription_id="", customer=PartySnapshot(**partner), currency=statement["currency"],
        period_start=statement["period_start"], period_end=statement["period_end"],
        lines=[DraftLine(charge_code="partner-share", kind="fee", **line) for line in statement["lines"]],
    )
    with engine.begin() as conn:
        return create_document(conn, tenant_id, request, today, "389", {"partner_bank": bank}, keep_rejected=False)
