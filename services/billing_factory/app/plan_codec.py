"""From a stored plan definition (the API's JSON) to priced invoice lines.

This is the seam between the catalog as stored and the rating rules: it
validates a definition (naming the faulty field), finds the billable
periods of a subscription, and rates one period into DraftLines.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from libs.contracts.events import DraftLine
from libs.money import Money, UnknownCurrency, check_currency
from services.billing_factory.app.errors import Invalid
from services.billing_factory.domain.billing_periods import Interval, period_containing, periods_between, proration
from services.billing_factory.domain.charge_pricing import Charge, Tier, price_charge


@dataclass(frozen=True)
class Plan:
    code: str
    currency: str
    interval: Interval
    charges: tuple[Charge, ...]
    metric_fields: dict[str, str | None]
    metric_aggregations: dict[str, str]


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def plan_from_definition(definition: dict[str, Any], metrics: dict[str, dict[str, Any]]) -> Plan:
    try:
        check_currency(definition["currency"])
    except UnknownCurrency as exc:
        raise Invalid("currency", str(exc)) from None
    charges = []
    for i, c in enumerate(definition["charges"]):
        tiers = tuple(Tier(_dec(t.get("up_to")), Decimal(str(t["unit_price"])), Decimal(str(t.get("flat_fee") or 0))) for t in c.get("tiers") or [])
        charge = Charge(
            code=c["code"], name=c["name"], model=c["model"], metric=c.get("metric"), billing=c.get("billing", "in_advance"),
            amount=_dec(c.get("amount")), unit_price=_dec(c.get("unit_price")), tiers=tiers,
            package_size=_dec(c.get("package_size")), package_price=_dec(c.get("package_price")),
            percentage=_dec(c.get("percentage")), fixed_fee=_dec(c.get("fixed_fee")),
            min_per_transaction=_dec(c.get("min_per_transaction")), max_per_transaction=_dec(c.get("max_per_transaction")),
            amount_field=c.get("amount_field"), free_units=_dec(c.get("free_units")) or Decimal(0),
            minimum_amount=_dec(c.get("minimum_amount")), maximum_amount=_dec(c.get("maximum_amount")),
            group_by=c.get("group_by"), unit_code=c.get("unit_code", "C62"),
            tax_rate=_dec(c.get("tax_rate")) if c.get("tax_rate") is not None else Decimal(19), tax_category=c.get("tax_category", "S"),
        )
        problem = charge.problem()
        if problem:
            raise Invalid(f"charges[{i}].{problem[0]}", problem[1])
        if charge.metric and charge.metric not in metrics:
            raise Invalid(f"charges[{i}].metric", f"unknown metric {charge.metric!r}")
        charges.append(charge)
    return Plan(definition["code"], definition["currency"], Interval(definition["interval"], definition.get("alignment", "calendar")),
                tuple(charges), {k: v.get("field") for k, v in metrics.items()}, {k: v["aggregation"] for k, v in metrics.items()})


def billable_periods(plan: Plan, started_at: datetime, ends_at: datetime | None, as_of: datetime) -> list[tuple[datetime, datetime]]:
    """Periods that have ended by as_of (or by the subscription's end)."""
    stop = min(as_of, ends_at) if ends_at else as_of
    out = []
    for start, end in periods_between(plan.interval, started_at, stop):
        if end <= as_of or (ends_at is not None and ends_at <= as_of and start < ends_at):
            out.append((start, end))
    return out


def open_period(plan: Plan, started_at: datetime, now: datetime) -> tuple[datetime, datetime]:
    return period_containing(plan.interval, started_at, now)


def rate_period(plan: Plan, start: datetime, end: datetime, started_at: datetime, ends_at: datetime | None, events: list[dict]) -> list[DraftLine]:
    """Lines for one period: fees prorated by day for partial periods, usage aggregated per metric."""
    factor = proration(plan.interval, start, end, started_at, ends_at)
    by_metric: dict[str, list[dict]] = {}
    for e in events:
        by_metric.setdefault(e["metric"], []).append(e)
    first = start <= started_at < end
    line_start = max(start, started_at).date()
    line_end = last_day(min(end, ends_at) if ends_at else end)
    lines: list[DraftLine] = []
    for charge in plan.charges:
        usage = by_metric.get(charge.metric, []) if charge.metric else []
        aggregation = plan.metric_aggregations.get(charge.metric or "", "count")
        field = plan.metric_fields.get(charge.metric or "")
        rate = charge.tax_rate if charge.tax_category == "S" else Decimal(0)
        for priced in price_charge(charge, plan.currency, usage, aggregation, field, factor, first, end):
            # built from validated values only, so pydantic's validation is skipped on this hot path
            lines.append(DraftLine.model_construct(
                charge_code=charge.code, description=priced.description, kind=priced.kind, quantity=priced.quantity,
                unit_code=charge.unit_code, unit_price=priced.unit_price, net_minor=priced.amount.minor,
                tax_category=charge.tax_category, tax_rate=rate, detail=priced.detail, period_start=line_start, period_end=line_end,
            ))
    return lines


def last_day(exclusive_end: datetime) -> date:
    """Periods are [start, end); an invoice names the last day that belongs to the period."""
    return (exclusive_end - timedelta(microseconds=1)).date()


def total(lines: list[DraftLine], currency: str) -> Money:
    return Money(sum(l.net_minor for l in lines), currency)


def preview_lines(plan: Plan, quantities: dict[str, Decimal], start: datetime, end: datetime) -> list[DraftLine]:
    """Price a whole period for given quantities per metric, without usage or storage.

    Each metric's quantity is one synthetic event summed as is, so tiers, packages, free units,
    minimums and caps price exactly as in a billing run with that aggregated usage. Per-transaction
    models (percentage) see the quantity as one transaction's amount.
    """
    field = "__quantity"
    priced = Plan(plan.code, plan.currency, plan.interval, plan.charges,
                  {m: field for m in plan.metric_fields}, {m: "sum" for m in plan.metric_aggregations})
    charges = tuple(c if c.model != "percentage" else replace(c, amount_field=field) for c in plan.charges)
    priced = replace(priced, charges=charges)
    events = [{"metric": metric, "timestamp": start, "properties": {field: str(q)}} for metric, q in quantities.items()]
    return rate_period(priced, start, end, start, None, events)
