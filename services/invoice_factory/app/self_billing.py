"""Self-billing statements (Gutschrift, type 389): the tenant documents what it owes a partner.

Under § 14 Abs. 2 Satz 5 UStG the recipient of a service may issue the
invoice for it, if agreed; the document must say "Gutschrift". The partner
is the seller on it, the tenant the buyer, and the amount is paid out to the
partner's account. It takes its number from its own gap-free range and is
archived and validated like every invoice. Partner settlement (revenue
sharing) posts the payable in the ledger; the statement posts nothing.

Statements come from a clerk (HTTP) or from the payment factory
(PartnerStatementRequested on the payments topic). Either way one
statement_id issues one document, announced by InvoiceIssued (type 389,
with its statement_id). A requested statement the law would refuse is not
stored: it goes to the dead-letter topic with the fields at fault.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, Engine

from libs.contracts import topics
from libs.contracts.envelope import Envelope
from libs.contracts.events import DeadLettered, DraftLine, InvoiceRequested, PartnerStatementRequested, PartySnapshot
from libs.platform.inbox import first_delivery
from libs.platform.outbox import write_outbox
from services.invoice_factory.adapters.tables import inbox, outbox
from services.invoice_factory.app.issuing import NotIssuableDraft, create_document

CONSUMER = "invoice-statements"
# what the document checks call the partner's data (it is the seller of a 389), as the request message names it
_MESSAGE_FIELDS = (("payment.seller_account", "bank"), ("seller.", "partner."), ("buyer.", "invoice-settings.seller."))


def _issue(conn: Connection, tenant_id: str, statement_id: str, partner: PartySnapshot, bank: dict | None, currency: str,
           period: tuple[date, date], lines: list[DraftLine], today: date) -> str:
    request = InvoiceRequested(
        request_id=f"self-billing:{statement_id}", billing_run_id=f"self-billing:{statement_id}", subscription_id="",
        customer=partner, currency=currency, period_start=period[0], period_end=period[1], lines=lines)
    return create_document(conn, tenant_id, request, today, "389", {"partner_bank": bank, "statement_id": statement_id},
                           keep_rejected=False)


def issue_self_billing(engine: Engine, tenant_id: str, statement: dict, today: date) -> str:
    """Issue (or, for a known statement_id, find) the statement; returns the invoice id.

    Raises NotIssuableDraft, storing nothing, when the statement lacks what § 14 UStG requires.
    """
    partner = dict(statement["partner"])
    bank = partner.pop("bank")
    lines = [DraftLine(charge_code="partner-share", kind="fee", **line) for line in statement["lines"]]
    with engine.begin() as conn:
        return _issue(conn, tenant_id, statement["statement_id"], PartySnapshot(**partner), bank, statement["currency"],
                      (statement["period_start"], statement["period_end"]), lines, today)


def _message_field(field: str) -> str:
    for checked, named in _MESSAGE_FIELDS:
        if field.startswith(checked):
            return named + field.removeprefix(checked)
    return field


def _refusals(event: PartnerStatementRequested) -> list[dict[str, str]]:
    """What the document checks cannot see because building the document fails on it first."""
    periods = [("period_end", event.period_start, event.period_end)] + [
        (f"lines[{i}].period_end", line.period_start, line.period_end) for i, line in enumerate(event.lines)]
    return [{"field": field, "message": "the period ends before it starts"}
            for field, start, end in periods if start and end and end < start]


def issue_requested_statement(engine: Engine, env: Envelope, event: PartnerStatementRequested, today: date) -> str | None:
    """Issue the statement the payment factory asked for; returns its id, None for a redelivered or refused message.

    Never raises for the message's content: a refused statement stores nothing and is dead-lettered once.
    """
    bank = {"iban": event.bank.iban, "account_holder": event.bank.holder, "bic": event.bank.bic} if event.bank else None
    problems = _refusals(event)
    if not problems:
        try:
            with engine.begin() as conn:
                if not first_delivery(conn, inbox, CONSUMER, env.id):
                    return None
                return _issue(conn, env.tenant_id, event.statement_id, event.partner, bank, event.currency,
                              (event.period_start, event.period_end), event.lines, today)
        except NotIssuableDraft as exc:
            problems = [{"field": _message_field(p["field"]), "message": p["message"]} for p in exc.problems]
        except ValueError as exc:  # a value the document cannot hold (e.g. an unknown currency)
            problems = [{"field": "statement", "message": str(exc)}]
    with engine.begin() as conn:
        if first_delivery(conn, inbox, CONSUMER, env.id):
            reason = "self-billing statement refused: " + "; ".join(f"{p['field']}: {p['message']}" for p in problems)
            write_outbox(conn, outbox, env.tenant_id, topics.DEAD_LETTER, event.statement_id, DeadLettered(
                source_topic=topics.PAYMENTS, reason=reason, detail=problems, original=env.model_dump_json()))
    return None
