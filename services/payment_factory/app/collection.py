"""Collection runs: on schedule or on demand, collect what customers owe through their payment method.

A customer is collected when their schedule is due (or the run is manual),
the outstanding amount not already in flight reaches their threshold, and
for SEPA a usable mandate exists. SEPA collections go out as one pain.008
file per run; they count as paid only when the bank statement shows them
(see statements.py), and a return schedules a retry with backoff. Card and
wallet methods go through the provider port and post at once when captured.
A run is idempotent per key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, func, select, update

from libs.ids import new_id
from libs.money import Money
from services.payment_factory.adapters.sepa_files import Collection, Creditor, pain008
from services.payment_factory.adapters.sql_ledger import SqlLedger
from services.payment_factory.adapters.tables import account_settings, collection_runs, collections, open_items
from services.payment_factory.app import mandates
from services.payment_factory.app.payments import record_payment
from services.payment_factory.domain.psp import PaymentProvider, PaymentStatus, ProviderError
from services.payment_factory.domain.sepa import SepaError, earliest_collection, sequence_type

IN_FLIGHT = ("submitted",)


class CollectionRefused(Exception):
    def __init__(self, field: str, reason: str, status: int = 422, slug: str = "collection-refused"):
        super().__init__(reason)
        self.field, self.reason, self.status, self.slug = field, reason, status, slug


@dataclass(frozen=True)
class SepaConfig:
    creditor: Creditor | None
    prenotification_days: int = 14


def schedule_due(schedule: str, today: date, manual: bool) -> bool:
    if manual:
        return True
    return {"monthly": today.day == 1, "weekly": today.weekday() == 0, "quarterly": today.day == 1 and today.month in (1, 4, 7, 10),
            "on_invoice": True, "manual": False}.get(schedule, False)


def run_collection(engine: Engine, books: SqlLedger, providers: dict[str, PaymentProvider], sepa: SepaConfig, tenant: str, key: str,
                   today: date, manual: bool, customer_ids: list[str] | None = None, mandate_id: str | None = None) -> dict:
    with engine.begin() as conn:
        prior = conn.execute(select(collection_runs).where(collection_runs.c.tenant_id == tenant, collection_runs.c.idempotency_key == key)).first()
        if prior is not None:
            return run_out(conn, prior._mapping)
        if mandate_id is not None and (not customer_ids or len(customer_ids) != 1):
            raise CollectionRefused("mandate_id", "a mandate can be named for a run over exactly one customer")
        explicit = mandates.load_mandate(conn, tenant, mandate_id) if mandate_id else None  # unknown: 404 before anything
        stmt = select(account_settings).where(account_settings.c.tenant_id == tenant)
        if customer_ids:
            stmt = stmt.where(account_settings.c.customer_id.in_(customer_ids))
        run_id = new_id("crun")
        sepa_rows: list[Collection] = []
        created, total = [], 0
        for s in conn.execute(stmt.order_by(account_settings.c.customer_id)).all():
            retry = _pending_retry(conn, tenant, s.customer_id)
            if retry is not None and retry.next_attempt_on > today:
                continue  # backing off after a failed attempt, whatever the schedule says
            if (retry is None and not schedule_due(s.schedule, today, manual)) or s.payment_method == "bank_transfer":
                continue
            outstanding = _outstanding(conn, tenant, s.customer_id, s.currency)
            if outstanding <= 0 or outstanding < s.threshold_minor:
                continue
            e2e = new_id("e2e")[:35]
            row = {"id": new_id("col"), "tenant_id": tenant, "run_id": run_id, "customer_id": s.customer_id, "method": s.payment_method,
                   "mandate_id": None, "sequence_type": None, "currency": s.currency, "amount_minor": outstanding, "status": "submitted",
                   "end_to_end_id": e2e, "attempt": retry.attempt + 1 if retry is not None else 1, "due_on": today, "next_attempt_on": None, "payment_id": None,
                   "return_code": None, "created_at": books.clock.now()}
            if s.payment_method == "sepa_direct_debit":
                if sepa.creditor is None:
                    raise CollectionRefused("creditor", "SEPA creditor (name, IBAN, creditor id) is not configured")
                mrow = None
                if explicit is not None:
                    mrow = mandates.active_mandate(conn, tenant, s.customer_id, today)
                    if mrow is None or mrow.id != mandate_id:
                        raise CollectionRefused("mandate_id", f"mandate {mandate_id} is not a usable mandate of customer {s.customer_id}")
                else:
                    mrow = mandates.active_mandate(conn, tenant, s.customer_id, today)
                if mrow is None:
                    continue  # no usable mandate: nothing to debit, dunning takes over
                mandate = mandates.to_mandate(mrow)
                seq = sequence_type(mandate)
                due = earliest_collection(today, sepa.prenotification_days)
                sepa_rows.append(Collection(e2e, mandate, seq, outstanding, due, f"Kunde {s.customer_id}"))
                mandates.mark_used(conn, tenant, mrow.id, today)
                row.update(mandate_id=mrow.id, sequence_type=seq.value, due_on=due)
            else:
                provider = providers.get(s.payment_method)
                if provider is None:
                    continue
                try:
                    result = provider.authorize(f"{key}:{s.customer_id}", outstanding, s.currency, s.customer_id,
                                                s.payment_method_ref or "", {"collection": row["id"]})
                    if result.status is PaymentStatus.AUTHORIZED:
                        result = provider.capture(f"{key}:{s.customer_id}:capture", result.reference)
                except ProviderError as exc:
                    row.update(status="failed", return_code=(exc.code or "provider")[:8])
                    result = None
                if result is not None and result.status is PaymentStatus.SUCCEEDED:
                    paid = record_payment(engine, books, tenant, f"collection:{row['id']}", s.customer_id,
                                          Money(outstanding, s.currency), s.payment_method, result.reference, [], conn)
                    row.update(status="paid", payment_id=paid["id"])
            conn.execute(collections.insert().values(**row))
            if retry is not None:
                conn.execute(update(collections).where(collections.c.id == retry.id).values(status="retried"))
            created.append(row)
            total += outstanding
        try:
            xml = pain008(sepa.creditor, sepa_rows).decode() if sepa_rows else None
        except SepaError as exc:
            raise CollectionRefused(exc.field, exc.message) from None
        run = {"id": run_id, "tenant_id": tenant, "idempotency_key": key, "run_on": today, "trigger": "manual" if manual else "schedule",
               "collections": len(created), "total_minor": total, "pain008": xml, "created_at": books.clock.now()}
        conn.execute(collection_runs.insert().values(**run))
        return run_out(conn, run)


def _pending_retry(conn, tenant: str, customer_id: str):
    c = collections.c
    return conn.execute(select(collections).where(c.tenant_id == tenant, c.customer_id == customer_id, c.status == "retry_scheduled")
                        .order_by(c.created_at.desc()).limit(1)).first()


def _outstanding(conn, tenant: str, customer_id: str, currency: str) -> int:
    o = open_items.c
    open_sum = conn.execute(select(func.coalesce(func.sum(o.amount_minor - o.paid_minor), 0)).where(
        o.tenant_id == tenant, o.customer_id == customer_id, o.currency == currency, o.amount_minor > o.paid_minor)).scalar()
    c = collections.c
    flying = conn.execute(select(func.coalesce(func.sum(c.amount_minor), 0)).where(
        c.tenant_id == tenant, c.customer_id == customer_id, c.currency == currency, c.status.in_(IN_FLIGHT))).scalar()
    return int(open_sum) - int(flying)


def run_out(conn, run) -> dict:
    rows = conn.execute(select(collections).where(collections.c.tenant_id == run["tenant_id"], collections.c.run_id == run["id"])
                        .order_by(collections.c.customer_id)).all()
    return {"id": run["id"], "run_on": run["run_on"], "trigger": run["trigger"], "total_minor": run["total_minor"],
            "pain008": run["pain008"],
            "collections": [{k: r._mapping[k] for k in ("id", "customer_id", "method", "mandate_id", "sequence_type", "currency",
                                                        "amount_minor", "status", "end_to_end_id", "attempt", "due_on", "payment_id")}
                            for r in rows]}
