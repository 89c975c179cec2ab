"""Billing factory domain: the pure rating engine (plans, metrics, periods, prices, lines).

No I/O and no frameworks: frozen dataclasses, `Decimal` and `datetime`.
`rate(plan, SubscriptionPeriod(...), usage, now)` turns one subscription
period into invoice lines; the app's billing runs and previews both use it.
"""

from services.billing_factory.domain.charges import (
    Bundle, Charge, FlatFee, Graduated, OneTime, Package, ParameterInfo, Percentage, PerUnit, PriceModel, PriceVersion,
    Tier, Volume,
)
from services.billing_factory.domain.discounts import Credit, Discount
from services.billing_factory.domain.errors import InvalidField, InvalidPlan, InvalidSubscription, InvalidUsage, RatingError, UsageNotRateable
from services.billing_factory.domain.labels import ENGLISH, GERMAN, Labels
from services.billing_factory.domain.lines import Line, LineKind, total_minor
from services.billing_factory.domain.metrics import Aggregation, BillableMetric, UsageEvent, aggregate, aggregate_groups
from services.billing_factory.domain.periods import (
    Alignment, Interval, Period, active_windows, next_period, period_containing, prorate_minor, proration_factor,
)
from services.billing_factory.domain.plans import Plan
from services.billing_factory.domain.pricing import percentage_steps, usage_steps
from services.billing_factory.domain.rating import rate
from services.billing_factory.domain.subscriptions import OneTimeItem, SubscriptionPeriod
from services.billing_factory.domain.versions import Segment, price_at, price_segments

__all__ = [
    "Aggregation", "Alignment", "BillableMetric", "Bundle", "Charge", "Credit", "Discount", "ENGLISH", "FlatFee", "GERMAN",
    "Graduated", "Interval", "InvalidField", "InvalidPlan", "InvalidSubscription", "InvalidUsage", "Labels", "Line", "LineKind", "OneTime", "OneTimeItem",
    "Package", "ParameterInfo", "Percentage", "PerUnit", "Period", "Plan", "PriceModel", "PriceVersion", "RatingError",
    "Segment", "SubscriptionPeriod", "Tier", "UsageEvent", "UsageNotRateable", "Volume", "active_windows", "aggregate",
    "aggregate_groups", "next_period", "percentage_steps", "period_containing", "price_at", "price_segments",
    "prorate_minor", "proration_factor", "rate", "total_minor", "usage_steps",
]
