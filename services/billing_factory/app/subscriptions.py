"""Subscription lifecycle: change plan, pause, resume, cancel, coupons, credits and one-time orders.

Each change is stored as a dated fact (a phase, a pause, an applied coupon)
rather than by rewriting the subscription, so rating any period, before or
after the change, sees exactly what was in force then; proration by day
follows from the dates in the domain.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from libs.ids import new_id
from libs.money import Money
from services.billing_factory.adapters.tables import (
    credits, one_time_orders, subscription_coupons, subscription_pauses, subscription_phases, subscriptions,
)
from services.billing_factory.app.catalog import get_coupon, get_plan, get_subscription
from services.billing_factory.app.partners import check_clearing
from services.billing_factory.app.errors import Conflict, Invalid
from services.billing_factory.app.rating import PlanCache, load, utc
from services.billing_factory.domain.validation import validate_tax
from services.billing_factory.domain import InvalidField


def _live(sub: dict[str, Any], at: datetime, field: str = "at") -> None:
    if at.tzinfo is None:
        raise Invalid(field, "needs a time zone")
    if at < utc(sub["started_at"]):
        raise Invalid(field, "is before the subscription started")
    if sub["ends_at"] is not None and at >= utc(sub["ends_at"]):
        raise Invalid(field, "is after the subscription ended")


def _view(engine: Engine, tenant_id: str, ident: str) -> dict[str, Any]:
    return get_subscription(engine, tenant_id, ident)


def cancel(engine: Engine, tenant_id: str, ident: str, at: datetime | None, at_period_end: bool, now: datetime) -> dict[str, Any]:
    """End now (or at `at`), or at the end of the period running then; the last period is prorated by day."""
    sub = get_subscription(engine, tenant_id, ident)
    at = at or now
    _live(sub, at)
    if at_period_end:
        with engine.connect() as conn:
            at = load(conn, PlanCache(conn, tenant_id), sub).open(at).end
    with engine.begin() as conn:
        conn.execute(subscriptions.update().where(subscriptions.c.id == sub["id"])
                     .values(ends_at=at, status="canceled", cancel_at_period_end=at_period_end))
    return _view(engine, tenant_id, sub["id"])


def change_plan(engine: Engine, tenant_id: str, ident: str, plan: str, at: datetime) -> dict[str, Any]:
    """From `at` on the new plan rates; the period it falls in is split and each part prorated by day."""
    sub = get_subscription(engine, tenant_id, ident)
    _live(sub, at)
    new = get_plan(engine, tenant_id, plan)
    with engine.connect() as conn:
        current = load(conn, PlanCache(conn, tenant_id), sub)
    old = current.plan
    if new["id"] == sub["plan_id"]:
        raise Invalid("plan", "the subscription is on this plan already")
    if current.currency not in new["currencies"]:
        raise Invalid("plan", f"the plan has no prices in the subscription's currency {current.currency}")
    if (new["interval"], new.get("alignment", "calendar")) != ({"weekly": "week", "monthly": "month", "quarterly": "quarter",
                                                                "yearly": "year"}[old.interval.value], old.alignment.value):
        raise Invalid("plan", "a plan change keeps the billing interval and alignment")
    if at <= current.phases[-1].started_at:
        raise Invalid("at", "must be after the last plan change")
    with engine.begin() as conn:
        if len(current.phases) == 1:
            conn.execute(subscription_phases.insert().values(tenant_id=tenant_id, subscription_id=sub["id"], plan_id=sub["plan_id"],
                                                             started_at=utc(sub["started_at"])))
        conn.execute(subscription_phases.insert().values(tenant_id=tenant_id, subscription_id=sub["id"], plan_id=new["id"], started_at=at))
        conn.execute(subscriptions.update().where(subscriptions.c.id == sub["id"]).values(plan_id=new["id"], currency=current.currency))
    return _view(engine, tenant_id, sub["id"])


def pause(engine: Engine, tenant_id: str, ident: str, at: datetime) -> dict[str, Any]:
    """Recurring fees stop from the day of `at` until resumed; usage in a pause is still billed."""
    sub = get_subscription(engine, tenant_id, ident)
    _live(sub, at)
    if sub["status"] == "paused":
        raise Conflict("the subscription is paused already")
    with engine.begin() as conn:
        conn.execute(subscription_pauses.insert().values(tenant_id=tenant_id, subscription_id=sub["id"], paused_at=at))
        conn.execute(subscriptions.update().where(subscriptions.c.id == sub["id"]).values(status="paused"))
    return _view(engine, tenant_id, sub["id"])


def resume(engine: Engine, tenant_id: str, ident: str, at: datetime) -> dict[str, Any]:
    sub = get_subscription(engine, tenant_id, ident)
    if sub["status"] != "paused":
        raise Conflict("the subscription is not paused")
    with engine.begin() as conn:
        open_pause = conn.execute(select(subscription_pauses).where(
            subscription_pauses.c.tenant_id == tenant_id, subscription_pauses.c.subscription_id == sub["id"],
            subscription_pauses.c.resumed_at.is_(None))).first()
        if at.tzinfo is None or at <= utc(open_pause.paused_at):
            raise Invalid("at", "must be after the pause began, with a time zone")
        conn.execute(subscription_pauses.update().where(
            subscription_pauses.c.tenant_id == tenant_id, subscription_pauses.c.subscription_id == sub["id"],
            subscription_pauses.c.paused_at == open_pause.paused_at).values(resumed_at=at))
        conn.execute(subscriptions.update().where(subscriptions.c.id == sub["id"]).values(status="active"))
    return _view(engine, tenant_id, sub["id"])


def apply_coupon(engine: Engine, tenant_id: str, ident: str, coupon: str, at: datetime) -> dict[str, Any]:
    """The coupon counts its periods from the one `at` falls in."""
    sub = get_subscription(engine, tenant_id, ident)
    _live(sub, at)
    c = get_coupon(engine, tenant_id, coupon)
    if c["currency"] and c["currency"] != sub["currency"]:
        raise Invalid("coupon", f"the coupon is in {c['currency']}, the subscription in {sub['currency']}")
    try:
        with engine.begin() as conn:
            conn.execute(subscription_coupons.insert().values(tenant_id=tenant_id, subscription_id=sub["id"], coupon_id=c["id"], applied_at=at))
    except IntegrityError:
        raise Conflict(f"coupon {c['code']!r} is applied already") from None
    return {"subscription_id": sub["id"], "coupon": c["code"], "applied_at": at}


def grant_credit(engine: Engine, tenant_id: str, ident: str, name: str, amount: Decimal) -> dict[str, Any]:
    """Credit in the subscription's currency, used on its next invoices up to what is due."""
    sub = get_subscription(engine, tenant_id, ident)
    if amount <= 0:
        raise Invalid("amount", "must be positive")
    money = Money.from_decimal(amount, sub["currency"])
    if money.amount != amount:
        raise Invalid("amount", f"more decimals than {sub['currency']} has")
    row = {"id": new_id("crd"), "tenant_id": tenant_id, "subscription_id": sub["id"], "name": name, "currency": sub["currency"],
           "granted_minor": money.minor, "remaining_minor": money.minor, "created_at": datetime.now(timezone.utc)}
    with engine.begin() as conn:
        conn.execute(credits.insert().values(**row))
    return row


def list_credits(engine: Engine, tenant_id: str, ident: str) -> list[dict[str, Any]]:
    sub = get_subscription(engine, tenant_id, ident)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(credits).where(credits.c.tenant_id == tenant_id, credits.c.subscription_id == sub["id"])
                                                       .order_by(credits.c.created_at))]


def order(engine: Engine, tenant_id: str, ident: str, data: dict[str, Any]) -> dict[str, Any]:
    """A one-time order, billed with the period `ordered_at` falls in."""
    sub = get_subscription(engine, tenant_id, ident)
    _live(sub, data["ordered_at"], "ordered_at")
    if data["unit_price"] < 0:
        raise Invalid("unit_price", "must not be negative")
    category = data["tax_category"]
    data = {**data, "tax_rate": data["tax_rate"] if category == "S" else Decimal(0)}
    try:
        validate_tax(category, data["tax_rate"])
    except InvalidField as exc:
        raise Invalid(exc.field, exc.reason) from None
    clearing = data.get("clearing")
    row = {**data, "id": new_id("ord"), "tenant_id": tenant_id, "subscription_id": sub["id"], "billed_run_id": None,
           "clearing": {k: str(v) for k, v in clearing.items()} if clearing else None}
    with engine.begin() as conn:
        check_clearing(conn, tenant_id, clearing, data["ordered_at"].date())
        conn.execute(one_time_orders.insert().values(**row))
    return {**row, "clearing": clearing}
