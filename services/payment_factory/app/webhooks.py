"""The webhook inbox: a provider event is verified, recorded once by (provider, event id), then applied.

A forged or stale event is refused before anything is stored. A replayed or
duplicated event finds its id and changes nothing. The effects are keyed by
the provider's own references too (payment key from the provider's payment
id, chargeback key from the event id), so even a crash between applying and
recording cannot apply an event twice.
"""

from __future__ import annotations

from typing import Mapping

from sqlalchemy import Engine, func, select, update

from libs.money import Money
from libs.platform.inbox import insert_ignoring_duplicates
from services.payment_factory.adapters.sql_ledger import SqlLedger
from services.payment_factory.adapters.tables import collections, payment_reversals, payments, webhook_events
from services.payment_factory.app.payments import PaymentRefused, charge_back_payment, record_payment, refund_payment
from services.payment_factory.domain.psp import EventKind, NormalizedEvent

METHOD = {"stripe": "card", "paypal": "paypal"}


def receive(engine: Engine, books: SqlLedger, verifier, tenant: str, body: bytes, headers: Mapping[str, str]) -> dict:
    event = verifier.verify_webhook(body, headers)  # raises WebhookRejected: nothing stored
    with engine.connect() as conn:
        seen = conn.execute(select(webhook_events.c.outcome).where(webhook_events.c.provider == event.provider,
                                                                   webhook_events.c.event_id == event.event_id)).first()
    if seen is not None:
        return {"event_id": event.event_id, "duplicate": True, "outcome": seen.outcome}
    outcome = _apply(engine, books, tenant, event)
    with engine.begin() as conn:
        inserted = insert_ignoring_duplicates(conn, webhook_events, [{
            "provider": event.provider, "event_id": event.event_id, "tenant_id": tenant, "kind": event.kind.value,
            "raw_type": event.raw_type, "payload": {"payment_reference": event.payment_reference, "amount_minor": event.amount_minor,
                                                    "currency": event.currency, "customer_id": event.customer_id, "reason": event.reason},
            "outcome": outcome, "received_at": books.clock.now()}], ["provider", "event_id"])
    return {"event_id": event.event_id, "duplicate": not inserted, "outcome": outcome}


def _payment_by_reference(engine: Engine, tenant: str, reference: str | None):
    if not reference:
        return None
    with engine.connect() as conn:
        return conn.execute(select(payments).where(payments.c.tenant_id == tenant, payments.c.reference == reference)
                            .order_by(payments.c.received_at)).first()


def _refunded(engine: Engine, tenant: str, payment_id: str) -> int:
    r = payment_reversals.c
    with engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.sum(r.amount_minor), 0)).where(
            r.tenant_id == tenant, r.payment_id == payment_id, r.kind == "refund")).scalar())


def _apply(engine: Engine, books: SqlLedger, tenant: str, e: NormalizedEvent) -> str:
    try:
        if e.kind is EventKind.PAYMENT_SUCCEEDED:
            if not (e.customer_id and e.amount_minor and e.currency):
                return "ignored: no customer, amount or currency"
            with engine.begin() as conn:
                paid = record_payment(engine, books, tenant, f"{e.provider}:{e.payment_reference}", e.customer_id,
                                      Money(e.amount_minor, e.currency), METHOD.get(e.provider, "card"), e.payment_reference or "", [], conn)
                if e.metadata.get("collection"):  # the provider confirms a collection our run started
                    conn.execute(update(collections).where(collections.c.tenant_id == tenant, collections.c.id == e.metadata["collection"],
                                                           collections.c.status == "submitted")
                                 .values(status="paid", payment_id=paid["id"]))
            return f"payment {paid['id']}"
        if e.kind is EventKind.CHARGEBACK_OPENED:
            pay = _payment_by_reference(engine, tenant, e.payment_reference)
            if pay is None:
                return "ignored: unknown payment"
            rev = charge_back_payment(engine, books, tenant, f"{e.provider}:{e.event_id}", pay.id, e.reason or e.raw_type)
            return f"chargeback {rev['id']}"
        if e.kind is EventKind.REFUNDED:
            pay = _payment_by_reference(engine, tenant, e.payment_reference)
            if pay is None or not e.amount_minor:
                return "ignored: unknown payment"
            amount = e.amount_minor
            if e.provider == "stripe":  # Stripe reports the charge's refunded total; refund only what is new
                amount -= _refunded(engine, tenant, pay.id)
                if amount <= 0:
                    return "ignored: nothing new refunded"
            rev = refund_payment(engine, books, tenant, f"{e.provider}:{e.event_id}", pay.id, Money(amount, pay.currency),
                                 e.reason or "refunded at the provider")
            return f"refund {rev['id']}"
    except PaymentRefused as exc:
        return f"refused: {exc.reason}"
    return f"ignored: {e.raw_type}"
