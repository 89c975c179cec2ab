"""A plan: charges, metrics and discounts in one currency, validated once when built.

Currencies: one plan per currency. An offer in EUR and CHF is two plans
(e.g. codes `pro-eur`, `pro-chf`), because an invoice has exactly one
currency and prices in another currency are rarely a plain conversion.
Constructing a `Plan` validates it and raises `InvalidPlan` naming the
field, so every Plan that exists can be rated without further checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from libs.money import DEFAULT_ROUNDING, Rounding, UnknownCurrency, check_currency
from services.billing_factory.domain.charges import Charge
from services.billing_factory.domain.discounts import Discount
from services.billing_factory.domain.errors import InvalidPlan
from services.billing_factory.domain.metrics import BillableMetric
from services.billing_factory.domain.periods import Alignment, Interval
from services.billing_factory.domain.validation import validate_charge


@dataclass(frozen=True, slots=True)
class Plan:
    code: str
    name: str
    currency: str
    interval: Interval
    charges: tuple[Charge, ...]
    metrics: tuple[BillableMetric, ...] = ()
    alignment: Alignment = Alignment.CALENDAR
    pay_in_advance: bool = True
    discounts: tuple[Discount, ...] = ()  # plan-wide offers, e.g. 20 % for the first 3 periods
    rounding: Rounding = DEFAULT_ROUNDING
    metric_index: Mapping[str, BillableMetric] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.code:
            raise InvalidPlan("code", "must not be empty")
        try:
            check_currency(self.currency)
        except UnknownCurrency as exc:
            raise InvalidPlan("currency", str(exc)) from None
        if not isinstance(self.interval, Interval):
            raise InvalidPlan("interval", f"unknown interval {self.interval!r}")
        if not isinstance(self.alignment, Alignment):
            raise InvalidPlan("alignment", f"unknown alignment {self.alignment!r}")
        if not isinstance(self.rounding, Rounding):
            raise InvalidPlan("rounding", f"unknown rounding {self.rounding!r}")
        index: dict[str, BillableMetric] = {}
        for i, metric in enumerate(self.metrics):
            try:
                metric.validate()
            except InvalidPlan as exc:
                raise exc.under(f"metrics[{i}]") from None
            if metric.code in index:
                raise InvalidPlan(f"metrics[{i}].code", f"duplicate metric {metric.code!r}")
            index[metric.code] = metric
        seen: set[str] = set()
        for i, charge in enumerate(self.charges):
            try:
                validate_charge(charge, index)
            except InvalidPlan as exc:
                raise exc.under(f"charges[{i}]") from None
            if charge.code in seen:
                raise InvalidPlan(f"charges[{i}].code", f"duplicate charge {charge.code!r}")
            seen.add(charge.code)
        for i, discount in enumerate(self.discounts):
            try:
                discount.validate()
            except InvalidPlan as exc:
                raise exc.under(f"discounts[{i}]") from None
        object.__setattr__(self, "metric_index", MappingProxyType(index))
