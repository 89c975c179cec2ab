"""Small builders shared by the rating tests (plain functions, not fixtures)."""

from datetime import datetime, timezone
from decimal import Decimal as D

from services.billing_factory.domain import Aggregation, BillableMetric, Interval, Period, Plan, SubscriptionPeriod, rate


def utc(*a):
    return datetime(*a, tzinfo=timezone.utc)


NOV = Period(utc(2026, 11, 1), utc(2026, 12, 1))  # 30 days
AFTER = utc(2026, 12, 1)
SUM_M = BillableMetric("m", Aggregation.SUM, "v")


def plan_of(*charges, metrics=(SUM_M,), currency="EUR", **kw):
    return Plan("p", "Plan", currency, Interval.MONTHLY, tuple(charges), metrics, **kw)


def rows(lines):
    return [(l.kind.value, l.quantity, l.unit_price, l.amount.minor) for l in lines]


def rated(*charges, usage=None, ctx=None, now=AFTER, **kw):
    ctx = ctx or SubscriptionPeriod(NOV, NOV.start)
    return rate(plan_of(*charges, **kw), ctx, {} if usage is None else usage, now)


def usage_rows(charge, quantity):
    return rows(rated(charge, usage={"m": D(quantity)}))
