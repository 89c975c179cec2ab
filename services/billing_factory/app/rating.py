"""Rating a stored subscription: its plan phases, pauses, coupons, credits and orders, one period at a time.

The billing run, the upcoming-invoice preview and late-usage adjustments all
call `rate_subscription_period`, so what a preview shows is what a run bills.
A plan change splits the period into phases, each rated with its own plan
(fees prorated by day, so the parts add up to one period); coupons, credits
and one-time orders ride on the last phase of the period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection, String, cast, func, select

from libs.contracts.events import DraftLine
from libs.money import Money
from services.billing_factory.adapters.tables import (
    coupons, credits, metrics, one_time_orders, plans, subscription_coupons, subscription_pauses, subscription_phases, usage_events,
)
from services.billing_factory.app.plan_codec import (
    Extras, billable_periods, coupon_discount, open_period, period_index, plan_from_definition, rate_rows,
)
from services.billing_factory.app.sharing import ShareBook, with_shares
from services.billing_factory.domain import Aggregation, Credit, OneTimeItem, Period, Plan


def utc(dt: datetime | None) -> datetime | None:
    return None if dt is None else dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


@dataclass
class Phase:
    plan: Plan
    plan_code: str
    started_at: datetime
    ends_at: datetime | None


@dataclass
class Subscribed:
    """A subscription as rating needs it, loaded once per billing run."""

    id: str
    currency: str
    started_at: datetime
    ends_at: datetime | None
    phases: list[Phase]
    customer_id: str = ""
    cache: PlanCache | None = None  # where the tenant's share rules are loaded from, once, when a period is rated

    @property
    def plan(self) -> Plan:
        """The plan whose interval and alignment cut the periods (plan changes keep both)."""
        return self.phases[0].plan

    def billable(self, as_of: datetime) -> list[Period]:
        return billable_periods(self.plan, self.started_at, self.ends_at, as_of)

    def open(self, now: datetime) -> Period:
        return open_period(self.plan, self.started_at, now)


class PlanCache:
    """Decoded plans per (plan id, currency) for one transaction: decoding and validating a plan happens once."""

    def __init__(self, conn: Connection, tenant_id: str) -> None:
        self.conn, self.tenant_id = conn, tenant_id
        self.metrics = {r.code: dict(r._mapping) for r in conn.execute(select(metrics).where(metrics.c.tenant_id == tenant_id))}
        self.plans: dict[tuple[str, str], tuple[Plan, str]] = {}
        self._shares: ShareBook | None = None

    @property
    def shares(self) -> ShareBook:
        """The share rules, loaded on first use: callers that only cut periods never query them."""
        if self._shares is None:
            self._shares = ShareBook.load(self.conn, self.tenant_id)
        return self._shares

    def get(self, plan_id: str, currency: str | None) -> tuple[Plan, str]:
        key = (plan_id, currency or "")
        if key not in self.plans:
            definition = self.conn.execute(select(plans.c.definition).where(plans.c.id == plan_id)).scalar_one()
            self.plans[key] = (plan_from_definition(definition, self.metrics, currency), definition["code"])
        return self.plans[key]


def load(conn: Connection, cache: PlanCache, sub: dict[str, Any]) -> Subscribed:
    started, ends_at = utc(sub["started_at"]), utc(sub["ends_at"])
    rows = conn.execute(select(subscription_phases).where(subscription_phases.c.tenant_id == sub["tenant_id"],
                                                          subscription_phases.c.subscription_id == sub["id"])
                        .order_by(subscription_phases.c.started_at)).all()
    starts = [(r.plan_id, utc(r.started_at)) for r in rows] or [(sub["plan_id"], started)]
    phases = []
    for i, (plan_id, start) in enumerate(starts):
        plan, code = cache.get(plan_id, sub.get("currency"))
        until = starts[i + 1][1] if i + 1 < len(starts) else ends_at
        phases.append(Phase(plan, code, start, until))
    return Subscribed(sub["id"], phases[0].plan.currency, started, ends_at, phases, sub["customer_id"], cache)


# Properties come as their JSON text and are parsed by orjson: a prepaid subscription's open period is read again after
# every usage batch, and the stdlib parse was the largest part of that. orjson reads integers beyond 64 bits as floats,
# which cannot occur here: the edge refuses any number above 10**15 in properties (interface_layer/domain/usage.py).
_EVENT_COLUMNS = (usage_events.c.event_id, usage_events.c.metric_code, usage_events.c.ts, cast(usage_events.c.properties, String))


def period_events(conn: Connection, tenant_id: str, s: Subscribed, period: Period) -> list[dict[str, Any]]:
    """The period's usage rows, plus the last earlier one of each time-weighted metric: it opens the period's held value."""
    return _period_rows(conn, tenant_id, s, period) + _opening_rows(conn, tenant_id, s, period)


def _in_subscription(tenant_id: str, s: Subscribed):
    return (usage_events.c.tenant_id == tenant_id) & (usage_events.c.subscription_id == s.id)


def _in_period(period: Period):
    return (usage_events.c.ts >= period.start) & (usage_events.c.ts < period.end)


def _events(rows) -> list[dict[str, Any]]:
    loads = orjson.loads
    return [{"event_id": event_id, "metric": metric, "timestamp": utc(ts), "properties": loads(properties)}
            for event_id, metric, ts, properties in rows]


def _period_rows(conn: Connection, tenant_id: str, s: Subscribed, period: Period) -> list[dict[str, Any]]:
    return _events(conn.execute(select(*_EVENT_COLUMNS).where(_in_subscription(tenant_id, s), _in_period(period))))


def _opening_rows(conn: Connection, tenant_id: str, s: Subscribed, period: Period) -> list[dict[str, Any]]:
    held = {m.code.split("#", 1)[0] for phase in s.phases for m in phase.plan.metrics if m.aggregation is Aggregation.TIME_WEIGHTED_SUM}
    rows = []
    for code in sorted(held):
        opening = conn.execute(select(*_EVENT_COLUMNS).where(_in_subscription(tenant_id, s), usage_events.c.metric_code == code,
                                                             usage_events.c.ts < period.start)
                               .order_by(usage_events.c.ts.desc(), usage_events.c.event_id.desc()).limit(1)).first()
        if opening is not None:
            rows.append(opening)
    return _events(rows)


class OpenPeriodRows:
    """The open period's usage rows of the subscriptions priced after every usage batch (prepaid wallets, budgets).

    Pricing a prepaid subscription's open period after each batch used to read the whole period back: work that grew
    with every event of the month, for every batch. Instead the rows read once are kept, and each batch adds the rows
    it inserted itself (`UsageBatchResult.fresh`). A count of the period's rows in the database guards the reuse: when
    it differs from what is kept (usage another consumer recorded, or recorded before this process kept the period),
    the period is read afresh. Usage rows are never deleted, and what rating reads of them (id, metric, time,
    properties) never changes, so kept rows that the database counts alike are the database's rows.

    One instance per process; a subscription's usage arrives on one partition, so one thread at a time touches its entry.
    """

    def __init__(self, limit: int = 10_000):
        self._kept: dict[tuple, dict[str, dict[str, Any]]] = {}
        self._limit = limit

    def events(self, conn: Connection, tenant_id: str, s: Subscribed, period: Period, fresh: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """`period_events`, with `fresh` the rows a usage batch just inserted for the subscription (in any period)."""
        key = (tenant_id, s.id, period.start, period.end)
        kept = self._kept.get(key)
        if kept is not None:
            kept.update((e["event_id"], e) for e in fresh if period.start <= e["timestamp"] < period.end)
            counted = conn.execute(select(func.count()).select_from(usage_events)
                                   .where(_in_subscription(tenant_id, s), _in_period(period))).scalar_one()
            if len(kept) != counted:
                kept = None
        if kept is None:
            if len(self._kept) >= self._limit:
                self._kept.clear()
            kept = self._kept[key] = {e["event_id"]: e for e in _period_rows(conn, tenant_id, s, period)}
        return list(kept.values()) + _opening_rows(conn, tenant_id, s, period)


OPEN_PERIODS = OpenPeriodRows()


def extras(conn: Connection, tenant_id: str, s: Subscribed, period: Period, with_orders_billed: bool = False) -> Extras:
    """Pauses, coupons in force, credit left (whenever granted: it goes to the next invoice billed) and unbilled orders of the period."""
    t = tenant_id
    rows = conn.execute(select(subscription_pauses).where(subscription_pauses.c.tenant_id == t, subscription_pauses.c.subscription_id == s.id))
    pauses = tuple((a, b) for r in rows for a, b in [(utc(r.paused_at), utc(r.resumed_at) or period.end)] if b > a)
    index = period_index(s.plan, s.started_at, period)
    found = conn.execute(select(coupons, subscription_coupons.c.applied_at).join(subscription_coupons, subscription_coupons.c.coupon_id == coupons.c.id)
                         .where(subscription_coupons.c.tenant_id == t, subscription_coupons.c.subscription_id == s.id,
                                subscription_coupons.c.applied_at < period.end).order_by(subscription_coupons.c.applied_at)).all()
    discounts = tuple(coupon_discount(dict(r._mapping), period_index(s.plan, s.started_at, s.open(utc(r.applied_at)))) for r in found)
    left = conn.execute(select(credits).where(credits.c.tenant_id == t, credits.c.subscription_id == s.id,
                                              credits.c.remaining_minor > 0).order_by(credits.c.created_at)).all()
    credit = tuple(Credit(r.id, r.name, Money(r.remaining_minor, s.currency).amount) for r in left)
    query = select(one_time_orders).where(one_time_orders.c.tenant_id == t, one_time_orders.c.subscription_id == s.id,
                                          one_time_orders.c.ordered_at >= period.start, one_time_orders.c.ordered_at < period.end)
    if not with_orders_billed:
        query = query.where(one_time_orders.c.billed_run_id.is_(None))
    items = tuple(OneTimeItem(r.code, r.name, Decimal(r.quantity), Decimal(r.unit_price), r.tax_category, Decimal(r.tax_rate))
                  for r in conn.execute(query.order_by(one_time_orders.c.ordered_at)))
    return Extras(pauses, discounts, credit, items, index)


def rate_subscription_period(conn: Connection, tenant_id: str, s: Subscribed, period: Period, now: datetime,
                             extra: Extras | None = None, events: list[dict[str, Any]] | None = None) -> list[DraftLine]:
    """Every line of one period: each plan phase in it, then the subscription's coupons, credits and orders on the last."""
    events = period_events(conn, tenant_id, s, period) if events is None else events
    active = [p for p in s.phases if p.started_at < period.end and (p.ends_at is None or p.ends_at > period.start)]
    extra = extras(conn, tenant_id, s, period) if extra is None else extra
    lines: list[DraftLine] = []
    for i, phase in enumerate(active):
        last = i == len(active) - 1
        phase_extras = extra if last else Extras(extra.pauses, period_index=extra.period_index)
        lines += rate_rows(phase.plan, period, phase.started_at, phase.ends_at, events, now, phase_extras)
    if s.cache is None:
        return lines
    return with_shares(conn, tenant_id, s.cache.shares, s.currency, [p.plan for p in active], s.id, s.customer_id, period, lines, events)
