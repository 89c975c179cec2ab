"""Invoice runs: how far the documents of one billing run have come, for a clerk watching 10,000 of them.

The billing factory requests one invoice per customer and period, then says
how many it requested (BillingRunCompleted). Issuing, rendering, archiving
and e-mailing each move at their own pace and each resumes by itself after
a crash (idempotent requests, an `archived` flag, an e-mail timestamp), so
progress is read from the invoices themselves rather than kept in a
counter that a crash could leave wrong.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, case, func, select

from libs.contracts.envelope import Envelope
from libs.contracts.events import BillingRunCompleted
from libs.platform.inbox import insert_ignoring_duplicates
from services.invoice_factory.adapters.tables import invoice_runs, invoices

ISSUED = ("finalized", "paid", "voided")


def record_run_completed(engine: Engine, env: Envelope, event: BillingRunCompleted) -> None:
    with engine.begin() as conn:
        insert_ignoring_duplicates(conn, invoice_runs, [{
            "tenant_id": env.tenant_id, "billing_run_id": event.billing_run_id, "invoices_requested": event.invoices_requested,
            "as_of": event.as_of, "completed_at": datetime.now(timezone.utc),
        }], ["tenant_id", "billing_run_id"])


def _stage(requested: int | None, counts: dict[str, int]) -> str:
    received = counts["issued"] + counts["drafts"] + counts["rejected"]
    if requested is None or received < requested:
        return "issuing"
    if counts["drafts"]:
        return "awaiting_review"
    if counts["archived"] < counts["issued"]:
        return "archiving"
    if counts["emailed"] < counts["to_email"]:
        return "dispatching"
    return "completed"


def run_progress(engine: Engine, tenant_id: str, billing_run_id: str) -> dict[str, Any] | None:
    """Counts per stage and the stage the run is in; None if nothing of this run has arrived."""
    issued = invoices.c.status.in_(ISSUED)
    with engine.connect() as conn:
        run = conn.execute(select(invoice_runs).where(invoice_runs.c.tenant_id == tenant_id,
                                                      invoice_runs.c.billing_run_id == billing_run_id)).first()
        row = conn.execute(select(
            func.count().label("received"),
            func.coalesce(func.sum(case((issued, 1), else_=0)), 0).label("issued"),
            func.coalesce(func.sum(case((invoices.c.status == "draft", 1), else_=0)), 0).label("drafts"),
            func.coalesce(func.sum(case((invoices.c.status == "rejected", 1), else_=0)), 0).label("rejected"),
            func.coalesce(func.sum(case((issued & invoices.c.archived.is_(True), 1), else_=0)), 0).label("archived"),
            func.coalesce(func.sum(case((issued & invoices.c.email_to.is_not(None), 1), else_=0)), 0).label("to_email"),
            func.coalesce(func.sum(case((invoices.c.emailed_at.is_not(None), 1), else_=0)), 0).label("emailed"),
            func.coalesce(func.sum(case((issued, invoices.c.gross_minor), else_=0)), 0).label("gross_minor"),
            func.min(invoices.c.number).label("first_number"), func.max(invoices.c.number).label("last_number"),
        ).where(invoices.c.tenant_id == tenant_id, invoices.c.billing_run_id == billing_run_id)).one()
    if run is None and row.received == 0:
        return None
    counts = {name: int(getattr(row, name)) for name in ("issued", "drafts", "rejected", "archived", "to_email", "emailed")}
    requested = run.invoices_requested if run else None
    done = counts["archived"] + counts["rejected"] + counts["drafts"]
    return {
        "billing_run_id": billing_run_id, "stage": _stage(requested, counts), "invoices_requested": requested,
        "received": int(row.received), **counts, "gross_minor": int(row.gross_minor),
        "first_number": row.first_number, "last_number": row.last_number,
        "percent_done": round(100 * done / requested, 1) if requested else (0.0 if requested is None else 100.0),
    }


def list_runs(engine: Engine, tenant_id: str, limit: int = 50) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        ids = list(conn.execute(select(invoice_runs.c.billing_run_id).where(invoice_runs.c.tenant_id == tenant_id)
                                .order_by(invoice_runs.c.completed_at.desc()).limit(limit)).scalars())
    return [progress for run_id in ids if (progress := run_progress(engine, tenant_id, run_id))]
