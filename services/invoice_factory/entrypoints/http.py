"""REST API of the invoice factory: seller settings, invoices, their documents, the archive index."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, FastAPI, Header, Query
from sqlalchemy import select
from starlette.responses import Response

from libs.money import Money
from libs.platform.problems import Problem, not_found
from libs.platform.web import make_service_app, tenant_dependency
from services.invoice_factory.adapters.tables import invoices
from services.invoice_factory.app.settings_store import load_profile, save_profile
from services.invoice_factory.app.archiving import COLLECTION
from services.invoice_factory.app.cancellation import CannotCancel, InvalidCredit, KeyReused, cancel_invoice, credit_invoice
from services.invoice_factory.app.documents import render_snapshot
from services.invoice_factory.app.invoice_runs import list_runs, run_progress
from services.invoice_factory.app.self_billing import issue_self_billing
from services.invoice_factory.app.issuing import NotADraft, NotIssuableDraft, drafts_of_run, finalize_draft
from services.invoice_factory.entrypoints.schemas import CancelIn, CreditNoteIn, DocumentOut, InvoiceOut, InvoiceRunOut, InvoiceSettingsIn, SelfBillingIn


def _out(row) -> InvoiceOut:
    lines = row.document.get("request", {}).get("lines", []) if row.document else []
    return InvoiceOut(
        id=row.id, number=row.number, type_code=row.type_code, status=row.status, customer_id=row.customer_id,
        issue_date=row.issue_date, due_date=row.due_date, period_start=row.period_start, period_end=row.period_end,
        currency=row.currency, net_minor=row.net_minor, tax_minor=row.tax_minor, gross_minor=row.gross_minor,
        paid_minor=row.paid_minor, archived=row.archived, problems=row.problems, lines=lines,
    )


def build_router(c) -> APIRouter:
    router = APIRouter(prefix="/v1")
    tenant = tenant_dependency(c.settings.internal_token)

    @router.put("/invoice-settings", tags=["settings"], summary="Seller data, bank account, number prefixes and branding")
    def put_settings(body: InvoiceSettingsIn, tenant_id: str = tenant) -> dict:
        return save_profile(c.engine, tenant_id, body.model_dump(mode="json"))

    @router.get("/invoice-settings", tags=["settings"])
    def get_settings(tenant_id: str = tenant) -> dict:
        profile = load_profile(c.engine, tenant_id)
        if profile is None:
            raise not_found("invoice settings", tenant_id)
        return profile

    @router.get("/invoices", response_model=list[InvoiceOut], tags=["invoices"])
    def list_invoices(tenant_id: str = tenant, customer_id: str | None = None, status: str | None = None,
                      limit: int = Query(100, ge=1, le=1000)):
        stmt = select(invoices).where(invoices.c.tenant_id == tenant_id).order_by(invoices.c.created_at.desc()).limit(limit)
        if customer_id:
            stmt = stmt.where(invoices.c.customer_id == customer_id)
        if status:
            stmt = stmt.where(invoices.c.status == status)
        with c.engine.connect() as conn:
            return [_out(r) for r in conn.execute(stmt)]

    def _load(tenant_id: str, invoice_id: str):
        with c.engine.connect() as conn:
            row = conn.execute(select(invoices).where(invoices.c.tenant_id == tenant_id, (invoices.c.id == invoice_id) | (invoices.c.number == invoice_id))).first()
        if row is None:
            raise not_found("invoice", invoice_id)
        return row

    @router.get("/invoices/{invoice_id}", response_model=InvoiceOut, tags=["invoices"])
    def get_invoice(invoice_id: str, tenant_id: str = tenant):
        return _out(_load(tenant_id, invoice_id))

    @router.get("/invoices/{invoice_id}/{kind}", tags=["invoices"], summary="The archived PDF (PDF/A-3 with embedded e-invoice) or XML",
                responses={200: {"content": {"application/pdf": {}, "application/xml": {}}}})
    def get_document(invoice_id: str, kind: Literal["pdf", "xml"], tenant_id: str = tenant):
        row = _load(tenant_id, invoice_id)
        if row.status == "draft":  # a draft is not archived: render it on the fly, marked as draft, for review
            pdf, xml, _ = render_snapshot(row.document)
            return Response(pdf if kind == "pdf" else xml, media_type="application/pdf" if kind == "pdf" else "application/xml",
                            headers={"Content-Disposition": f'inline; filename="draft-{row.id}.{kind}"'})
        if row.status == "rejected":
            raise Problem(409, "invoice-rejected", "Invoice was not issued", "see its problems", errors=row.problems)
        if not row.archived:
            raise Problem(503, "not-archived-yet", "Document is being archived", "retry shortly", headers={"Retry-After": "1"})
        key = row.pdf_key if kind == "pdf" else row.xml_key
        media = "application/pdf" if kind == "pdf" else "application/xml"
        return Response(c.blobs.get(key), media_type=media, headers={"Content-Disposition": f'attachment; filename="{row.number}.{kind}"'})

    @router.post("/invoices/{invoice_id}/cancel", status_code=201, response_model=InvoiceOut, tags=["invoices"],
                 summary="Cancel an issued invoice with a credit note (Stornorechnung, type 381) that references it")
    def cancel(invoice_id: str, body: CancelIn, tenant_id: str = tenant):
        try:
            credit_id = cancel_invoice(c.engine, tenant_id, invoice_id, body.reason, c.clock.now().date())
        except LookupError:
            raise not_found("invoice", invoice_id) from None
        except CannotCancel as exc:
            raise Problem(409, "cannot-cancel", "Invoice cannot be cancelled", str(exc)) from None
        c.wake_archiver()
        c.relay.wake()
        return _out(_load(tenant_id, credit_id))

    @router.post("/invoices/{invoice_id}/credit-notes", status_code=201, response_model=InvoiceOut, tags=["invoices"],
                 summary="Credit part of an issued invoice (type 381, referencing it): chosen amounts of chosen lines")
    def credit_note(invoice_id: str, body: CreditNoteIn, tenant_id: str = tenant,
                    idempotency_key: str = Header(min_length=1, max_length=200)):
        row = _load(tenant_id, invoice_id)
        credits = {line.position: Money.from_decimal(line.amount, row.currency).minor for line in body.lines}
        try:
            credit_id = credit_invoice(c.engine, tenant_id, row.id, body.reason, c.clock.now().date(), credits, idempotency_key)
        except CannotCancel as exc:
            raise Problem(409, "cannot-credit", "Invoice cannot be credited", str(exc)) from None
        except KeyReused as exc:
            raise Problem(409, "idempotency-key-reused", "Idempotency key reused with another body", str(exc)) from None
        except InvalidCredit as exc:
            raise Problem(422, "invalid-credit", "Credit not possible", str(exc),
                          errors=[{"field": exc.field, "message": exc.message}]) from None
        c.wake_archiver()
        c.relay.wake()
        return _out(_load(tenant_id, credit_id))

    def _finalize(tenant_id: str, invoice_id: str) -> None:
        try:
            finalize_draft(c.engine, tenant_id, invoice_id, c.clock.now().date())
        except LookupError:
            raise not_found("invoice", invoice_id) from None
        except NotADraft as exc:
            raise Problem(409, "not-a-draft", "Only drafts can be finalized", str(exc)) from None
        except NotIssuableDraft as exc:
            raise Problem(422, "not-issuable", "The draft cannot be issued yet", str(exc), errors=exc.problems) from None

    @router.post("/invoices/{invoice_id}/finalize", response_model=InvoiceOut, tags=["invoices"],
                 summary="Finalize a reviewed draft (or a rejected request after fixing the settings): it takes its number now")
    def finalize(invoice_id: str, tenant_id: str = tenant):
        row = _load(tenant_id, invoice_id)
        _finalize(tenant_id, row.id)
        c.wake_archiver()
        c.relay.wake()
        return _out(_load(tenant_id, row.id))

    @router.post("/self-billing-statements", status_code=201, response_model=InvoiceOut, tags=["invoices"],
                 summary="Issue a self-billing statement (Gutschrift, type 389) for a partner; the same statement_id issues once")
    def self_billing(body: SelfBillingIn, tenant_id: str = tenant):
        try:
            invoice_id = issue_self_billing(c.engine, tenant_id, body.model_dump(mode="json"), c.clock.now().date())
        except NotIssuableDraft as exc:
            raise Problem(422, "not-issuable", "The statement cannot be issued", str(exc), errors=exc.problems) from None
        c.wake_archiver()
        return _out(_load(tenant_id, invoice_id))

    @router.get("/invoice-runs", response_model=list[InvoiceRunOut], tags=["invoice runs"],
                summary="The latest invoice runs (one per billing run) with their progress")
    def invoice_runs(tenant_id: str = tenant, limit: int = Query(50, ge=1, le=500)):
        return list_runs(c.engine, tenant_id, limit)

    @router.get("/invoice-runs/{billing_run_id}", response_model=InvoiceRunOut, tags=["invoice runs"],
                summary="Progress of one run: requested, issued, drafts, rejected, archived, e-mailed, and its stage")
    def invoice_run(billing_run_id: str, tenant_id: str = tenant):
        progress = run_progress(c.engine, tenant_id, billing_run_id)
        if progress is None:
            raise not_found("invoice run", billing_run_id)
        return progress

    @router.post("/invoice-runs/{billing_run_id}/finalize", response_model=InvoiceRunOut, tags=["invoice runs"],
                 summary="Finalize every draft of a run, in the order they were created, so numbers follow the run")
    def finalize_run(billing_run_id: str, tenant_id: str = tenant):
        if run_progress(c.engine, tenant_id, billing_run_id) is None:
            raise not_found("invoice run", billing_run_id)
        for invoice_id in drafts_of_run(c.engine, tenant_id, billing_run_id):
            _finalize(tenant_id, invoice_id)
        c.wake_archiver()
        c.relay.wake()
        return run_progress(c.engine, tenant_id, billing_run_id)

    @router.get("/documents", response_model=list[DocumentOut], tags=["archive"], summary="Search the Cloud Archive index")
    def search_documents(tenant_id: str = tenant, customer_id: str | None = None, number: str | None = None,
                         type_code: str | None = None, kind: Literal["pdf", "xml"] | None = None,
                         period_from: date | None = None, period_to: date | None = None, limit: int = Query(100, ge=1, le=1000)):
        flt: dict = {"tenant_id": tenant_id}
        for name, value in (("customer_id", customer_id), ("number", number), ("type_code", type_code), ("kind", kind)):
            if value:
                flt[name] = value
        if period_from:
            flt["period_end"] = {"$gte": period_from.isoformat()}
        if period_to:
            flt["period_start"] = {"$lte": period_to.isoformat()}
        return c.docstore.find(COLLECTION, flt, sort=[("number", 1), ("kind", 1)], limit=limit)

    @router.get("/documents/{number}/{kind}/download-url", tags=["archive"], summary="A short-lived download URL (presigned, tenant-checked)")
    def download_url(number: str, kind: Literal["pdf", "xml"], tenant_id: str = tenant) -> dict:
        found = c.docstore.find(COLLECTION, {"tenant_id": tenant_id, "number": number, "kind": kind}, limit=1)
        if not found:
            raise not_found("document", f"{number}.{kind}")
        return {"url": c.blobs.download_url(found[0]["key"], 300), "expires_in": 300, "sha256": found[0]["sha256"]}

    @router.get("/archive/blobs", tags=["archive"], include_in_schema=False)
    def signed_blob(key: str, expires: int, signature: str):
        verify = getattr(c.blobs, "verify", None)
        if verify is None or not verify(key, expires, signature):
            raise Problem(403, "bad-signature", "Invalid or expired link")
        return Response(c.blobs.get(key), media_type="application/pdf" if key.endswith(".pdf") else "application/xml")

    return router


def create_app(container) -> FastAPI:
    return make_service_app(container, "cloudbill invoice factory",
                            "Invoices and credit notes: gap-free numbers, PDF/A-3 with ZUGFeRD, XRechnung, the Cloud Archive.",
                            build_router(container))
