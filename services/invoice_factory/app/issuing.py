"""Issuing invoices from the billing factory's requests.

One transaction: inbox check, completeness check (before any number is
taken), number from the gap-free range, the finalized invoice, and the
InvoiceIssued event in the outbox. A tenant that reviews invoices first
gets drafts without a number; finalizing one takes the number then. A
request that is not issuable is kept as "rejected" with its problems and
can be finalized once the seller data is fixed. Rendering and archiving happen after the
commit (app/archiving.py), so a slow or absent S3 never holds a number back
and never un-finalizes an invoice.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import Connection, Engine, select, update

from libs.contracts import topics
from libs.contracts.envelope import Envelope
from libs.contracts.events import DraftLine, InvoiceIssued, InvoiceRequested, PartyShare, TaxSubtotal
from libs.ids import new_id
from libs.platform.inbox import first_delivery
from libs.platform.outbox import write_outbox
from services.invoice_factory.adapters.numbering import next_number
from services.invoice_factory.adapters.tables import inbox, invoices, outbox, seller_profiles
from services.invoice_factory.app.documents import document_snapshot, profile_of, to_domain
from services.invoice_factory.domain import Totals, check_issuable, compute_totals, party_totals

CONSUMER = "invoice-issue"
PREFIXES = {"380": ("invoice_prefix", "RE-"), "381": ("credit_note_prefix", "GS-"), "389": ("self_billing_prefix", "SB-")}


def load_profile(conn: Connection, tenant_id: str) -> dict | None:
    row = conn.execute(select(seller_profiles.c.profile).where(seller_profiles.c.tenant_id == tenant_id)).first()
    return row.profile if row else None


class NotADraft(Exception):
    pass


def _problems(profile: dict | None, snapshot: dict) -> list[dict[str, str]]:
    if profile is None:
        return [{"field": "invoice-settings", "message": "the tenant has no seller profile (PUT /v1/invoice-settings)"}]
    return [{"field": p.field, "message": p.reason} for p in check_issuable(to_domain(snapshot), profile_of(snapshot["flavour"]))]


def _dated(snapshot: dict, profile: dict, today: date) -> dict:
    """The snapshot with the issue date, due date and payment terms of the day it is finalized."""
    request = InvoiceRequested.model_validate(snapshot["request"])
    fresh = document_snapshot(request, profile, snapshot["invoice_id"], today, snapshot["type_code"])
    return {**snapshot, **{key: fresh[key] for key in ("issue_date", "due_date", "payment_terms")}}


def party_shares(lines: list[DraftLine]) -> list[PartyShare]:
    """Per partner the sum of its shares on `lines` (partners summing to 0 left out): InvoiceIssued.shares."""
    totals = party_totals((share.partner_id, share.amount_minor) for line in lines for share in line.shares)
    return [PartyShare(partner_id=partner_id, net_minor=amount) for partner_id, amount in totals.items()]


def issued_event(snapshot: dict, totals: Totals, **fields) -> InvoiceIssued:
    """The InvoiceIssued of a finalized snapshot; `fields` adds what only some documents have (prepaid, the corrected invoice)."""
    request = InvoiceRequested.model_validate(snapshot["request"])
    self_billed = snapshot["type_code"] == "389"
    return InvoiceIssued(
        invoice_id=snapshot["invoice_id"], number=snapshot["number"], type_code=snapshot["type_code"],
        customer_id=request.customer.id, customer_name=request.customer.name, currency=request.currency,
        issue_date=date.fromisoformat(snapshot["issue_date"]), due_date=date.fromisoformat(snapshot["due_date"]),
        net_minor=totals.net.minor, tax_minor=totals.tax.minor, gross_minor=totals.gross.minor,
        tax_breakdown=[TaxSubtotal(category=s.category.value, rate=s.rate, net_minor=s.basis.minor, tax_minor=s.tax.minor) for s in totals.breakdown],
        shares=[] if self_billed else party_shares(request.lines), statement_id=snapshot.get("statement_id") if self_billed else None,
        **fields)


def _finalize(conn: Connection, tenant_id: str, snapshot: dict, profile: dict, today: date) -> dict:
    """Take the number and write the InvoiceIssued event; returns the column values of the finalized invoice."""
    request = InvoiceRequested.model_validate(snapshot["request"])
    snapshot = _dated(snapshot, profile, today)
    prefix_setting, default_prefix = PREFIXES[snapshot["type_code"]]
    number = next_number(conn, tenant_id, snapshot["type_code"], profile.get(prefix_setting, default_prefix))
    snapshot["number"] = number
    totals = compute_totals(to_domain(snapshot))
    due = date.fromisoformat(snapshot["due_date"])
    prepaid = min(request.prepaid_minor, totals.gross.minor) if snapshot["type_code"] == "380" else 0
    values = {"status": "paid" if prepaid and prepaid >= totals.gross.minor else "finalized", "paid_minor": prepaid,
              "number": number, "issue_date": today, "due_date": due, "document": snapshot, "problems": None,
              "net_minor": totals.net.minor, "tax_minor": totals.tax.minor, "gross_minor": totals.gross.minor,
              "email_to": request.customer.email if request.customer.email_invoices else None}
    # a statement (389) is announced too, naming its statement_id: the payment factory that asked for it posts the payable
    write_outbox(conn, outbox, tenant_id, topics.INVOICES, request.customer.id, issued_event(snapshot, totals, prepaid_minor=prepaid))
    return values


def issue_invoice(engine: Engine, env: Envelope, request: InvoiceRequested, today: date) -> str | None:
    """Issue one invoice for a request (or keep it as a draft when the tenant reviews drafts); returns its id.

    A repeated request returns the existing invoice's id and changes nothing.
    """
    with engine.begin() as conn:
        if not first_delivery(conn, inbox, CONSUMER, env.id):
            return None
        return create_document(conn, env.tenant_id, request, today)


def create_document(conn: Connection, tenant_id: str, request: InvoiceRequested, today: date, type_code: str = "380",
                    extra: dict | None = None, keep_rejected: bool = True) -> str:
    """The invoice (or statement) for a request, finalized, draft or rejected; the existing one's id on a repeat.

    A request from the bus that cannot be issued is kept as "rejected" so a
    clerk sees it; a caller who can answer directly (`keep_rejected=False`)
    gets NotIssuableDraft and nothing is stored.
    """
    existing = conn.execute(select(invoices.c.id).where(invoices.c.tenant_id == tenant_id, invoices.c.request_id == request.request_id)).scalar()
    if existing:
        return existing
    invoice_id = new_id("inv")
    profile = load_profile(conn, tenant_id)
    snapshot = {**document_snapshot(request, profile, invoice_id, today, type_code), **(extra or {})}
    row = {
        "id": invoice_id, "tenant_id": tenant_id, "request_id": request.request_id, "billing_run_id": request.billing_run_id,
        "customer_id": request.customer.id, "type_code": snapshot["type_code"], "period_start": request.period_start,
        "period_end": request.period_end, "currency": request.currency, "paid_minor": 0, "archived": False,
        "archive_attempts": 0, "created_at": datetime.now(timezone.utc),
    }
    problems = _problems(profile, snapshot)
    if problems and not keep_rejected:
        raise NotIssuableDraft(problems)
    if problems:
        conn.execute(invoices.insert().values(**row, status="rejected", net_minor=0, tax_minor=0, gross_minor=0, document=snapshot, problems=problems))
    elif profile.get("review_drafts"):
        totals = compute_totals(to_domain(snapshot))
        conn.execute(invoices.insert().values(**row, status="draft", net_minor=totals.net.minor, tax_minor=totals.tax.minor,
                                              gross_minor=totals.gross.minor, document=snapshot, problems=None))
    else:
        conn.execute(invoices.insert().values({**row, **_finalize(conn, tenant_id, snapshot, profile, today)}))
    return invoice_id


def finalize_draft(engine: Engine, tenant_id: str, invoice_id: str, today: date) -> str:
    """Finalize a reviewed draft: it takes the next number and today's date; refused for anything but a draft.

    The seller profile of today is used, so a draft rejected for missing seller
    data can be fixed in the settings and then finalized. Returns the number.
    """
    with engine.begin() as conn:
        stmt = select(invoices).where(invoices.c.tenant_id == tenant_id, invoices.c.id == invoice_id)
        row = conn.execute(stmt.with_for_update() if conn.dialect.name == "postgresql" else stmt).first()
        if row is None:
            raise LookupError(invoice_id)
        if row.status not in ("draft", "rejected"):
            raise NotADraft(f"invoice {row.number or row.id} is {row.status}; only drafts and rejected requests can be finalized")
        profile = load_profile(conn, tenant_id)
        snapshot = {**row.document, "seller_profile": profile}
        problems = _problems(profile, snapshot)
        if problems:
            conn.execute(update(invoices).where(invoices.c.id == invoice_id).values(problems=problems, document=snapshot))
            raise NotIssuableDraft(problems)
        values = _finalize(conn, tenant_id, snapshot, profile, today)
        conn.execute(update(invoices).where(invoices.c.id == invoice_id).values(**values))
        return values["number"]


def drafts_of_run(engine: Engine, tenant_id: str, billing_run_id: str) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(invoices.c.id).where(
            invoices.c.tenant_id == tenant_id, invoices.c.billing_run_id == billing_run_id, invoices.c.status == "draft",
        ).order_by(invoices.c.created_at, invoices.c.id)).scalars())


class NotIssuableDraft(Exception):
    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{p['field']}: {p['message']}" for p in problems))
        self.problems = problems


def retain_until(issue: date, years: int) -> datetime:
    """Retention runs to the end of the calendar year in which the period started, plus the legal years (AO §147 (4))."""
    return datetime(issue.year + years, 12, 31, 23, 59, 59, tzinfo=timezone.utc) + timedelta(seconds=1)
