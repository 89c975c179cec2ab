"""Billing runs: turn every subscription period that has ended into an invoice request.

Each (subscription, period) is billed once: a unique row in billed_periods is
inserted in the same transaction as the InvoiceRequested event, so re-running
a billing run, or two runs at once, bill nothing twice. A preview computes
the same lines without storing anything.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, and_, select, update

from libs.contracts import topics
from libs.contracts.events import BillingRunCompleted, DraftLine, InvoiceRequested, PartySnapshot
from libs.ids import new_id
from libs.platform.inbox import insert_ignoring_duplicates
from libs.platform.outbox import write_outbox
from services.billing_factory.adapters.tables import billed_periods, billing_runs, customers, metrics, outbox, plans, subscriptions, usage_events
from services.billing_factory.app.adjustments import late_adjustments
from services.billing_factory.app.catalog import get_plan, get_subscription
from services.billing_factory.app.errors import Invalid
from services.billing_factory.app.prepaid_periods import prepaid_for_period
from services.billing_factory.app.plan_codec import billable_periods, last_day, open_period, plan_from_definition, preview_lines, rate_period


def _utc(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _party(row) -> PartySnapshot:
    """The buyer as it is when billed: the invoice keeps this snapshot even if the customer changes later."""
    c = {col.name: row._mapping[col] for col in customers.c}
    return PartySnapshot(id=c["id"], number=c["external_id"], name=c["name"], street=c["street"] or "", postcode=c["postcode"] or "", city=c["city"] or "",
                         country=c["country"], vat_id=c["vat_id"], tax_number=c["tax_number"], email=c["email"],
                         buyer_reference=c["buyer_reference"], language=c["language"], e_invoice_format=c["e_invoice_format"],
                         email_invoices=bool(c["email_invoices"]))


def _events(conn, tenant_id: str, sub_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(usage_events.c.event_id, usage_events.c.metric_code, usage_events.c.ts, usage_events.c.properties)
        .where(usage_events.c.tenant_id == tenant_id, usage_events.c.subscription_id == sub_id,
               usage_events.c.ts >= start, usage_events.c.ts < end)
    )
    return [{"event_id": r.event_id, "metric": r.metric_code, "timestamp": _utc(r.ts), "properties": r.properties} for r in rows]


def _metric_map(conn, tenant_id: str) -> dict[str, dict]:
    return {r.code: dict(r._mapping) for r in conn.execute(select(metrics).where(metrics.c.tenant_id == tenant_id))}


def _request(conn, tenant_id: str, row, run_id: str, request_id: str, start, end, lines: list[DraftLine], prepaid_minor: int = 0) -> None:
    write_outbox(conn, outbox, tenant_id, topics.BILLING, row._mapping[customers.c.id], InvoiceRequested(
        request_id=request_id, billing_run_id=run_id, subscription_id=row._mapping[subscriptions.c.id], customer=_party(row),
        currency=row.definition["currency"], period_start=start, period_end=end, lines=lines, prepaid_minor=prepaid_minor,
    ), message_id=f"invreq:{tenant_id}:{request_id}")


def run_billing(engine: Engine, tenant_id: str, as_of: datetime) -> dict[str, Any]:
    run_id = new_id("run")
    requested = 0
    with engine.begin() as conn:
        known_metrics = _metric_map(conn, tenant_id)
        rows = conn.execute(
            select(subscriptions, plans.c.definition, customers)
            .join(plans, plans.c.id == subscriptions.c.plan_id).join(customers, customers.c.id == subscriptions.c.customer_id)
            .where(subscriptions.c.tenant_id == tenant_id, subscriptions.c.started_at <= as_of)
        ).all()
        billed = {(r.subscription_id, _utc(r.period_start)) for r in conn.execute(
            select(billed_periods.c.subscription_id, billed_periods.c.period_start).where(billed_periods.c.tenant_id == tenant_id))}
        for row in rows:
            plan = plan_from_definition(row.definition, known_metrics)
            sub_id = row._mapping[subscriptions.c.id]
            started, ends_at = _utc(row.started_at), _utc(row.ends_at) if row.ends_at else None
            events_of = lambda s, e, sub_id=sub_id: _events(conn, tenant_id, sub_id, s, e)  # noqa: E731
            adjustments = late_adjustments(conn, tenant_id, sub_id, plan, started, ends_at, run_id, events_of)
            for start, end in billable_periods(plan, started, ends_at, as_of):
                if (sub_id, start) in billed:
                    continue
                lines = rate_period(plan, start, end, started, ends_at, events_of(start, end))
                request_id = f"{sub_id}:{start.isoformat()}"
                inserted = insert_ignoring_duplicates(conn, billed_periods, [{
                    "tenant_id": tenant_id, "subscription_id": sub_id, "period_start": start, "period_end": end,
                    "billing_run_id": run_id, "request_id": request_id, "currency": row.definition["currency"],
                    "net_minor": sum(line.net_minor for line in lines), "lines": [l.model_dump(mode="json") for l in lines],
                }], ["tenant_id", "subscription_id", "period_start"])
                if not inserted:
                    continue  # a concurrent run billed it
                conn.execute(update(usage_events).where(and_(
                    usage_events.c.tenant_id == tenant_id, usage_events.c.subscription_id == sub_id,
                    usage_events.c.ts >= start, usage_events.c.ts < end)).values(billed_run_id=run_id))
                _request(conn, tenant_id, row, run_id, request_id, start.date(), last_day(min(end, ends_at) if ends_at else end), lines + adjustments,
                         prepaid_for_period(conn, tenant_id, sub_id, start))
                adjustments = []  # late usage rides on the first new invoice
                requested += 1
            if adjustments:  # no new period this time: the adjustment is an invoice of its own
                first = min(l.period_start for l in adjustments)
                last = max(l.period_end for l in adjustments)
                _request(conn, tenant_id, row, run_id, f"{sub_id}:adjustment:{run_id}", first, last, adjustments)
                requested += 1
        conn.execute(billing_runs.insert().values(id=run_id, tenant_id=tenant_id, as_of=as_of, status="completed",
                                                  invoices_requested=requested, created_at=datetime.now(timezone.utc)))
        write_outbox(conn, outbox, tenant_id, topics.BILLING, run_id, BillingRunCompleted(billing_run_id=run_id, as_of=as_of, invoices_requested=requested))
    return {"id": run_id, "as_of": as_of, "status": "completed", "invoices_requested": requested}


def preview_subscription(engine: Engine, tenant_id: str, ident: str, now: datetime) -> dict[str, Any]:
    """The open period's usage and the lines a billing run would produce if the period ended now."""
    sub = get_subscription(engine, tenant_id, ident)
    with engine.connect() as conn:
        definition = conn.execute(select(plans.c.definition).where(plans.c.id == sub["plan_id"])).scalar_one()
        plan = plan_from_definition(definition, _metric_map(conn, tenant_id))
        start, end = open_period(plan, _utc(sub["started_at"]), now)
        events = _events(conn, tenant_id, sub["id"], start, end)
    lines = rate_period(plan, start, end, _utc(sub["started_at"]), _utc(sub["ends_at"]) if sub["ends_at"] else None, events)
    return {"subscription_id": sub["id"], "period_start": start, "period_end": end, "events": len(events),
            "currency": definition["currency"], "net_minor": sum(l.net_minor for l in lines), "lines": [l.model_dump(mode="json") for l in lines]}


def usage_summary(engine: Engine, tenant_id: str, customer_id: str) -> dict[str, Any]:
    """How many usage events are recorded for a customer, per metric (all periods)."""
    from sqlalchemy import func

    with engine.connect() as conn:
        rows = conn.execute(
            select(usage_events.c.metric_code, func.count()).select_from(usage_events.join(subscriptions, subscriptions.c.id == usage_events.c.subscription_id))
            .where(usage_events.c.tenant_id == tenant_id, subscriptions.c.customer_id == customer_id).group_by(usage_events.c.metric_code)
        ).all()
    per_metric = {code: int(n) for code, n in rows}
    return {"customer_id": customer_id, "events": sum(per_metric.values()), "per_metric": per_metric}


def preview_plan(engine: Engine, tenant_id: str, plan_ref: str | None, definition: dict | None, quantities: dict, at: datetime) -> dict[str, Any]:
    if (plan_ref is None) == (definition is None):
        raise Invalid("plan", "name a stored plan or give a definition, not both")
    with engine.connect() as conn:
        known = _metric_map(conn, tenant_id)
    for metric, quantity in quantities.items():
        if metric not in known:
            raise Invalid(f"quantities.{metric}", f"unknown metric {metric!r}")
        if quantity < 0:
            raise Invalid(f"quantities.{metric}", "must not be negative")
    stored = definition or get_plan(engine, tenant_id, plan_ref)
    plan = plan_from_definition(stored, known)
    start, end = open_period(plan, _utc(at), _utc(at))
    lines = preview_lines(plan, quantities, start, end)
    return {"plan": stored["code"], "currency": stored["currency"], "period_start": start, "period_end": last_day(end),
            "net_minor": sum(l.net_minor for l in lines), "lines": [l.model_dump(mode="json") for l in lines]}
