"""Billing runs: turn every subscription period that has ended into an invoice request.

Each (subscription, period) is billed once: a unique row in billed_periods is
inserted in the same transaction as the InvoiceRequested event, so re-running
a billing run, or two runs at once, bill nothing twice. A run bills its
subscriptions in chunks, each one transaction: a run of 10,000 subscriptions
shows its progress, several workers bill its chunks side by side (each chunk
claimed once, see `advance_run`), and one cut short by a crash is picked up
by the run workers where its committed chunks ended. A preview computes the
same lines without storing anything.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, and_, func, select, update

from libs.contracts import topics
from libs.contracts.events import BillingRunCompleted, DraftLine, InvoiceRequested, PartySnapshot
from libs.ids import new_id
from libs.platform.inbox import insert_ignoring_duplicates
from libs.platform.outbox import write_outbox
from services.billing_factory.adapters.tables import (
    billed_periods, billing_run_chunks, billing_runs, credits, customers, metrics, one_time_orders, outbox, subscriptions, usage_events,
)
from services.billing_factory.app.adjustments import late_adjustments
from services.billing_factory.app.catalog import get_plan, get_subscription
from services.billing_factory.app.errors import Invalid, NotFound
from services.billing_factory.app.plan_codec import Extras, last_day, open_period, plan_from_definition, preview_lines
from services.billing_factory.app.rating import OPEN_PERIODS, PlanCache, period_events, extras, load, rate_subscription_period, utc
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
    """Bill one chunk of the run; True while this worker finds more of it to do.

    Several workers may advance one run at once. A chunk is claimed in a short transaction that holds the run row
    (it moves the cursor), then billed in a transaction of its own that holds only the chunk's row, so the workers
    bill different chunks side by side. A chunk left claimed by a worker that died is billed by the next one (its
    lock went with the connection). The worker that bills the last open chunk completes the run, once.
    """
    state = _bill_chunk(engine, tenant_id, run_id)  # first a chunk claimed before and never billed
    if state is None:
        seq = _claim(engine, tenant_id, run_id, chunk or CHUNK)
        if seq is None:
            return False  # finished, or its last chunks are being billed by other workers, who finish it
        state = _bill_chunk(engine, tenant_id, run_id, seq)
    return state != "completed"


def _claim(engine: Engine, tenant_id: str, run_id: str, chunk: int) -> int | None:
    """Claim the next `chunk` subscriptions after the run's cursor: the number of the new chunk, None if none is left."""
    with engine.begin() as conn:
        stmt = select(billing_runs).where(billing_runs.c.tenant_id == tenant_id, billing_runs.c.id == run_id)
        run = conn.execute(stmt.with_for_update() if conn.dialect.name == "postgresql" else stmt).first()
        if run is None or run.status != "running":
            return None
        mine = (billing_run_chunks.c.tenant_id == tenant_id, billing_run_chunks.c.run_id == run_id)
        seq, claimed_all = conn.execute(select(func.max(billing_run_chunks.c.seq), func.count().filter(billing_run_chunks.c.last))
                                        .where(*mine)).one()
        if claimed_all:
            return None
        query = (select(subscriptions.c.id).where(subscriptions.c.tenant_id == tenant_id, subscriptions.c.started_at <= utc(run.as_of))
                 .order_by(subscriptions.c.id).limit(chunk))
        ids = conn.execute(query.where(subscriptions.c.id > run.cursor) if run.cursor else query).scalars().all()
        seq = 0 if seq is None else seq + 1
        upto = ids[-1] if ids else None
        conn.execute(billing_run_chunks.insert().values(tenant_id=tenant_id, run_id=run_id, seq=seq, after_id=run.cursor, upto_id=upto,
                                                        last=len(ids) < chunk, status="claimed"))
        if upto is not None:
            conn.execute(update(billing_runs).where(billing_runs.c.id == run_id).values(cursor=upto))
        return seq


def _bill_chunk(engine: Engine, tenant_id: str, run_id: str, seq: int | None = None) -> str | None:
    """Bill a claimed chunk nobody else holds (chunk `seq`, or the first such one); None when there is none,
    else "billed", or "completed" when it was the run's last open chunk."""
    with engine.begin() as conn:
        mine = (billing_run_chunks.c.tenant_id == tenant_id, billing_run_chunks.c.run_id == run_id)
        stmt = select(billing_run_chunks).where(*mine, billing_run_chunks.c.status == "claimed")
        stmt = stmt.where(billing_run_chunks.c.seq == seq) if seq is not None else stmt.order_by(billing_run_chunks.c.seq).limit(1)
        if conn.dialect.name == "postgresql":  # SQLite: BEGIN IMMEDIATE already lets one writer at a time in
            stmt = stmt.with_for_update(skip_locked=True)
        claimed = conn.execute(stmt).first()
        if claimed is None:
            return None
        run = conn.execute(select(billing_runs.c.as_of).where(billing_runs.c.tenant_id == tenant_id, billing_runs.c.id == run_id)).one()
        as_of = utc(run.as_of)
        rows = []
        if claimed.upto_id is not None:
            query = (select(subscriptions, customers).join(customers, customers.c.id == subscriptions.c.customer_id)
                     .where(subscriptions.c.tenant_id == tenant_id, subscriptions.c.started_at <= as_of, subscriptions.c.id <= claimed.upto_id)
                     .order_by(subscriptions.c.id))
            rows = conn.execute(query.where(subscriptions.c.id > claimed.after_id) if claimed.after_id else query).all()
        requested = _bill(conn, tenant_id, run_id, as_of, rows)
        conn.execute(update(billing_run_chunks).where(*mine, billing_run_chunks.c.seq == claimed.seq).values(status="done"))
        # the run row is locked from here to the commit: whoever takes it second sees the other's chunk done
        conn.execute(update(billing_runs).where(billing_runs.c.id == run_id).values(
            subscriptions_done=billing_runs.c.subscriptions_done + len(rows),
            invoices_requested=billing_runs.c.invoices_requested + requested))
        open_, claimed_all = conn.execute(select(func.count().filter(billing_run_chunks.c.status != "done"),
                                                 func.count().filter(billing_run_chunks.c.last)).where(*mine)).one()
        if open_ or not claimed_all:
            return "billed"
        total = conn.execute(select(billing_runs.c.invoices_requested).where(billing_runs.c.id == run_id)).scalar_one()
        finished = conn.execute(update(billing_runs).where(billing_runs.c.id == run_id, billing_runs.c.status == "running")
                                .values(status="completed", completed_at=datetime.now(timezone.utc)))
        if finished.rowcount:
            write_outbox(conn, outbox, tenant_id, topics.BILLING, run_id, BillingRunCompleted(
                billing_run_id=run_id, as_of=as_of, invoices_requested=total))
        return "completed"


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
            return get_run(engine, tenant_id, run["id"])  # the rest is the run worker's
    return _finished_by_others(engine, tenant_id, run["id"])


def _finished_by_others(engine: Engine, tenant_id: str, run_id: str, wait_seconds: float = 10.0) -> dict[str, Any]:
    """The run once no chunk is left to claim: a run worker may have claimed the last chunks while this caller billed
    (or before it claimed any), so the run completes when that worker commits them; wait for it, briefly, so that a
    run that fits in the synchronous budget answers as completed whoever billed its last chunk."""
    deadline = time.monotonic() + wait_seconds
    result = get_run(engine, tenant_id, run_id)
    while result["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
        result = get_run(engine, tenant_id, run_id)
    return result


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


def preview_subscription(engine: Engine, tenant_id: str, ident: str, now: datetime,
                         fresh: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The upcoming invoice: the open period's usage so far, rated as a billing run at the period's end would rate it.

    `fresh`, from the usage consumer: the rows its batch just inserted for this subscription; the period's earlier rows
    then come from what this process kept (`OPEN_PERIODS`) rather than from reading the whole period again."""
    sub = get_subscription(engine, tenant_id, ident)
    with engine.connect() as conn:
        s = load(conn, PlanCache(conn, tenant_id), sub)
        period = s.open(now)
        events = period_events(conn, tenant_id, s, period) if fresh is None else OPEN_PERIODS.events(conn, tenant_id, s, period, fresh)
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
