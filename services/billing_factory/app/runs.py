"""Billing runs: turn every subscription period that has ended into an invoice request.

Each (subscription, period) is billed once: a unique row in billed_periods is
inserted in the same transaction as the InvoiceRequested event, so re-running
a billing run, or two runs at once, bill nothing twice. A run bills its
subscriptions in chunks, each one transaction that also moves the run's
cursor: a run of 10,000 subscriptions shows its progress, and one cut short
by a crash is picked up where its last chunk ended by the run worker. A
preview computes the same lines without storing anything.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, and_, func, select, update

from libs.contracts import topics
from libs.contracts.events import BillingRunCompleted, DraftLine, InvoiceRequested, PartySnapshot
from libs.ids import new_id
from libs.platform.inbox import insert_ignoring_duplicates
from libs.platform.outbox import write_outbox
from services.billing_factory.adapters.tables import (
    billed_periods, billing_runs, credits, customers, metrics, one_time_orders, outbox, subscriptions, usage_events,
)
from services.billing_factory.app.adjustments import late_adjustments
from services.billing_factory.app.catalog import get_plan, get_subscription
from services.billing_factory.app.errors import Invalid, NotFound
from services.billing_factory.app.plan_codec import Extras, last_day, open_period, plan_from_definition, preview_lines
from services.billing_factory.app.rating import PlanCache, period_events, extras, load, rate_subscription_period, utc
from services.billing_factory.app.prepaid_periods import prepaid_for_period


def _party(row) -> PartySnapshot:
    """The buyer as it is when billed: the invoice keeps this snapshot even if the customer changes later."""
    c = {col.name: row._mapping[col] for col in customers.c}
    return PartySnapshot(id=c["id"], number=c["external_id"], name=c["name"], street=c["street"] or "", postcode=c["postcode"] or "", city=c["city"] or "",
                         country=c["country"], vat_id=c["vat_id"], tax_number=c["tax_number"], email=c["email"],
                         buyer_reference=c["buyer_reference"], language=c["language"], e_invoice_format=c["e_invoice_format"],
                         email_invoices=bool(c["email_invoices"]))


def _request(conn, tenant_id: str, row, currency: str, run_id: str, request_id: str, start, end, lines: list[DraftLine],
             prepaid_minor: int = 0) -> None:
    write_outbox(conn, outbox, tenant_id, topics.BILLING, row._mapping[customers.c.id], InvoiceRequested(
        request_id=request_id, billing_run_id=run_id, subscription_id=row._mapping[subscriptions.c.id], customer=_party(row),
        currency=currency, period_start=start, period_end=end, lines=lines, prepaid_minor=prepaid_minor,
    ), message_id=f"invreq:{tenant_id}:{request_id}")


CHUNK = 200  # subscriptions billed per transaction: a crash loses at most one chunk's work, which is then redone


def start_run(engine: Engine, tenant_id: str, as_of: datetime, now: datetime) -> dict[str, Any]:
    """Record a run over every subscription started by `as_of`; chunks are billed by `advance_run`."""
    run_id = new_id("run")
    with engine.begin() as conn:
        total = conn.execute(select(func.count()).select_from(subscriptions).where(
            subscriptions.c.tenant_id == tenant_id, subscriptions.c.started_at <= as_of)).scalar_one()
        conn.execute(billing_runs.insert().values(id=run_id, tenant_id=tenant_id, as_of=as_of, status="running", invoices_requested=0,
                                                  created_at=now, subscriptions_total=total, subscriptions_done=0, cursor=None))
    return get_run(engine, tenant_id, run_id)


def get_run(engine: Engine, tenant_id: str, run_id: str) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(select(billing_runs).where(billing_runs.c.tenant_id == tenant_id, billing_runs.c.id == run_id)).first()
    if row is None:
        raise NotFound("billing run", run_id)
    return _run_out(row)


def list_runs(engine: Engine, tenant_id: str, limit: int = 50) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(billing_runs).where(billing_runs.c.tenant_id == tenant_id)
                            .order_by(billing_runs.c.created_at.desc()).limit(limit)).all()
    return [_run_out(r) for r in rows]


def _run_out(row) -> dict[str, Any]:
    return {"id": row.id, "as_of": utc(row.as_of), "status": row.status, "invoices_requested": row.invoices_requested,
            "subscriptions_total": row.subscriptions_total, "subscriptions_done": row.subscriptions_done,
            "completed_at": utc(row.completed_at) if row.completed_at else None}


def next_running(engine: Engine) -> tuple[str, str] | None:
    """(tenant, run id) of the oldest unfinished run, e.g. one a crash interrupted."""
    with engine.connect() as conn:
        row = conn.execute(select(billing_runs.c.tenant_id, billing_runs.c.id).where(billing_runs.c.status == "running")
                           .order_by(billing_runs.c.created_at).limit(1)).first()
    return (row.tenant_id, row.id) if row else None


def advance_run(engine: Engine, tenant_id: str, run_id: str, chunk: int | None = None) -> bool:
    """Bill the next chunk of subscriptions in one transaction; True while the run has more to do."""
    with engine.begin() as conn:
        stmt = select(billing_runs).where(billing_runs.c.tenant_id == tenant_id, billing_runs.c.id == run_id)
        run = conn.execute(stmt.with_for_update() if conn.dialect.name == "postgresql" else stmt).first()
        if run is None or run.status != "running":
            return False  # another worker finished it
        as_of = utc(run.as_of)
        query = (select(subscriptions, customers).join(customers, customers.c.id == subscriptions.c.customer_id)
                 .where(subscriptions.c.tenant_id == tenant_id, subscriptions.c.started_at <= as_of)
                 .order_by(subscriptions.c.id))
        chunk = chunk or CHUNK
        rows = conn.execute((query.where(subscriptions.c.id > run.cursor) if run.cursor else query).limit(chunk)).all()
        requested = _bill(conn, tenant_id, run_id, as_of, rows)
        done = len(rows) < chunk
        values = {"cursor": rows[-1]._mapping[subscriptions.c.id] if rows else run.cursor,
                  "subscriptions_done": run.subscriptions_done + len(rows), "invoices_requested": run.invoices_requested + requested}
        if done:
            values.update(status="completed", completed_at=datetime.now(timezone.utc))
            write_outbox(conn, outbox, tenant_id, topics.BILLING, run_id, BillingRunCompleted(
                billing_run_id=run_id, as_of=as_of, invoices_requested=values["invoices_requested"]))
        conn.execute(update(billing_runs).where(billing_runs.c.id == run_id).values(**values))
        return not done


def _bill(conn, tenant_id: str, run_id: str, as_of: datetime, rows) -> int:
    """Bill every ended, unbilled period of these subscriptions; returns how many invoices were requested."""
    requested = 0
    cache = PlanCache(conn, tenant_id)
    ids = [row._mapping[subscriptions.c.id] for row in rows]
    billed = {(r.subscription_id, utc(r.period_start)) for r in conn.execute(
        select(billed_periods.c.subscription_id, billed_periods.c.period_start).where(
            billed_periods.c.tenant_id == tenant_id, billed_periods.c.subscription_id.in_(ids)))} if ids else set()
    for row in rows:
        sub = {c.name: row._mapping[c] for c in subscriptions.c}
        s = load(conn, cache, sub)
        adjustments = late_adjustments(conn, tenant_id, s, run_id)
        for period in s.billable(as_of):
            if (s.id, period.start) in billed:
                continue
            extra = extras(conn, tenant_id, s, period)
            lines = rate_subscription_period(conn, tenant_id, s, period, as_of, extra)
            request_id = f"{s.id}:{period.start.isoformat()}"
            inserted = insert_ignoring_duplicates(conn, billed_periods, [{
                "tenant_id": tenant_id, "subscription_id": s.id, "period_start": period.start, "period_end": period.end,
                "billing_run_id": run_id, "request_id": request_id, "currency": s.currency,
                "net_minor": sum(line.net_minor for line in lines), "lines": [l.model_dump(mode="json") for l in lines],
            }], ["tenant_id", "subscription_id", "period_start"])
            if not inserted:
                continue  # a concurrent run billed it
            conn.execute(update(usage_events).where(and_(
                usage_events.c.tenant_id == tenant_id, usage_events.c.subscription_id == s.id,
                usage_events.c.ts >= period.start, usage_events.c.ts < period.end)).values(billed_run_id=run_id))
            consume(conn, tenant_id, s.id, run_id, extra, lines)
            last = min(period.end, s.ends_at) if s.ends_at else period.end
            _request(conn, tenant_id, row, s.currency, run_id, request_id, max(period.start, s.started_at).date(), last_day(last),
                     lines + adjustments, prepaid_for_period(conn, tenant_id, s.id, period.start))
            adjustments = []  # late usage rides on the first new invoice
            requested += 1
        if adjustments:  # no new period this time: the adjustment is an invoice of its own
            first = min(l.period_start for l in adjustments)
            last_date = max(l.period_end for l in adjustments)
            _request(conn, tenant_id, row, s.currency, run_id, f"{s.id}:adjustment:{run_id}", first, last_date, adjustments)
            requested += 1
    return requested


def run_billing(engine: Engine, tenant_id: str, as_of: datetime, now: datetime | None = None, chunks_now: int | None = None,
                chunk: int | None = None) -> dict[str, Any]:
    """Start a run and bill up to `chunks_now` chunks at once (all when None); the rest is left to the run worker."""
    run = start_run(engine, tenant_id, as_of, now or datetime.now(timezone.utc))
    chunks = 0
    while advance_run(engine, tenant_id, run["id"], chunk):
        chunks += 1
        if chunks_now is not None and chunks >= chunks_now:
            break
    return get_run(engine, tenant_id, run["id"])


def consume(conn, tenant_id: str, sub_id: str, run_id: str, extra: Extras, lines: list[DraftLine]) -> None:
    """Credit used on this invoice is used up; the period's one-time orders are billed."""
    for credit in extra.credits:
        used = -sum(l.net_minor for l in lines if l.kind == "credit" and l.charge_code == credit.code)
        if used:
            conn.execute(update(credits).where(credits.c.tenant_id == tenant_id, credits.c.id == credit.code)
                         .values(remaining_minor=credits.c.remaining_minor - used))
    codes = [item.code for item in extra.items]
    if codes:
        conn.execute(update(one_time_orders).where(one_time_orders.c.tenant_id == tenant_id, one_time_orders.c.subscription_id == sub_id,
                                                   one_time_orders.c.code.in_(codes), one_time_orders.c.billed_run_id.is_(None))
                     .values(billed_run_id=run_id))


def preview_subscription(engine: Engine, tenant_id: str, ident: str, now: datetime) -> dict[str, Any]:
    """The upcoming invoice: the open period's usage so far, rated as a billing run at the period's end would rate it."""
    sub = get_subscription(engine, tenant_id, ident)
    with engine.connect() as conn:
        s = load(conn, PlanCache(conn, tenant_id), sub)
        period = s.open(now)
        events = period_events(conn, tenant_id, s, period)
        lines = rate_subscription_period(conn, tenant_id, s, period, max(now, period.end), events=events)
    return {"subscription_id": s.id, "period_start": period.start, "period_end": period.end, "events": len(events),
            "currency": s.currency, "net_minor": sum(l.net_minor for l in lines), "lines": [l.model_dump(mode="json") for l in lines]}


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


def preview_plan(engine: Engine, tenant_id: str, plan_ref: str | None, definition: dict | None, quantities: dict, at: datetime,
                 currency: str | None = None) -> dict[str, Any]:
    if (plan_ref is None) == (definition is None):
        raise Invalid("plan", "name a stored plan or give a definition, not both")
    with engine.connect() as conn:
        known = {r.code: dict(r._mapping) for r in conn.execute(select(metrics).where(metrics.c.tenant_id == tenant_id))}
    for metric, quantity in quantities.items():
        if metric not in known:
            raise Invalid(f"quantities.{metric}", f"unknown metric {metric!r}")
        if quantity < 0:
            raise Invalid(f"quantities.{metric}", "must not be negative")
        if -quantity.as_tuple().exponent > known[metric]["decimals"]:
            raise Invalid(f"quantities.{metric}", f"more than the metric's {known[metric]['decimals']} decimals")
    stored = definition or get_plan(engine, tenant_id, plan_ref)
    plan = plan_from_definition(stored, known, currency)
    period = open_period(plan, utc(at), utc(at))
    lines = preview_lines(plan, quantities, period)
    return {"plan": stored["code"], "currency": plan.currency, "period_start": period.start, "period_end": last_day(period.end),
            "net_minor": sum(l.net_minor for l in lines), "lines": [l.model_dump(mode="json") for l in lines]}
