"""Pricing one charge for one period: the price models, as pure functions of usage.

Each model returns the lines a customer sees: a graduated charge one line
per tier step, a cap its own negative line, a minimum commitment a true-up
line. Amounts round per line with the named rounding policy; the invoice
total is the sum of lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any, Sequence

from libs.money import DEFAULT_ROUNDING, Money, Rounding

MODELS = ("flat_fee", "per_unit", "graduated", "volume", "package", "percentage", "one_time")
USAGE_MODELS = ("per_unit", "graduated", "volume", "package", "percentage")


@dataclass(frozen=True)
class Tier:
    up_to: Decimal | None
    unit_price: Decimal
    flat_fee: Decimal = Decimal(0)


@dataclass(frozen=True)
class Charge:
    code: str
    name: str
    model: str
    metric: str | None = None
    billing: str = "in_advance"
    amount: Decimal | None = None
    unit_price: Decimal | None = None
    tiers: tuple[Tier, ...] = ()
    package_size: Decimal | None = None
    package_price: Decimal | None = None
    percentage: Decimal | None = None
    fixed_fee: Decimal | None = None
    min_per_transaction: Decimal | None = None
    max_per_transaction: Decimal | None = None
    amount_field: str | None = None
    free_units: Decimal = Decimal(0)
    minimum_amount: Decimal | None = None
    maximum_amount: Decimal | None = None
    group_by: str | None = None
    unit_code: str = "C62"
    tax_rate: Decimal = Decimal(19)
    tax_category: str = "S"

    def problem(self) -> tuple[str, str] | None:
        """The first thing wrong with this charge as (field, reason), or None."""
        if self.model not in MODELS:
            return "model", f"unknown model {self.model!r}"
        if self.model in USAGE_MODELS and not self.metric:
            return "metric", f"a {self.model} charge needs a metric"
        for name in ("amount", "unit_price", "package_price", "percentage", "fixed_fee", "free_units", "minimum_amount", "maximum_amount", "tax_rate"):
            value = getattr(self, name)
            if value is not None and value < 0:
                return name, "must not be negative"
        required = {"flat_fee": "amount", "one_time": "amount", "per_unit": "unit_price", "package": "package_price", "percentage": "percentage"}
        if self.model in required and getattr(self, required[self.model]) is None:
            return required[self.model], f"a {self.model} charge needs {required[self.model]}"
        if self.model == "package" and (self.package_size is None or self.package_size <= 0):
            return "package_size", "must be positive"
        if self.model == "percentage" and not self.amount_field:
            return "amount_field", "a percentage charge needs the event property holding the transaction amount"
        if self.model in ("graduated", "volume"):
            return tier_problem(self.tiers)
        if self.minimum_amount is not None and self.maximum_amount is not None and self.maximum_amount < self.minimum_amount:
            return "maximum_amount", "must not be below minimum_amount"
        if self.tax_category not in ("S", "Z", "E", "AE", "K", "G", "O"):
            return "tax_category", "unknown EN 16931 tax category"
        return None


def tier_problem(tiers: Sequence[Tier]) -> tuple[str, str] | None:
    if not tiers:
        return "tiers", "needs at least one tier"
    previous = Decimal(0)
    for i, tier in enumerate(tiers):
        if tier.unit_price < 0 or tier.flat_fee < 0:
            return f"tiers[{i}].unit_price", "must not be negative"
        last = i == len(tiers) - 1
        if tier.up_to is None and not last:
            return f"tiers[{i}].up_to", "only the last tier may be open-ended"
        if tier.up_to is not None:
            if tier.up_to <= previous:
                return f"tiers[{i}].up_to", "tiers must be ordered and must not overlap"
            previous = tier.up_to
        elif last:
            break
    if tiers[-1].up_to is not None:
        return f"tiers[{len(tiers) - 1}].up_to", "the last tier must be open-ended (up_to null)"
    return None


@dataclass(frozen=True)
class PricedLine:
    description: str
    kind: str  # fee | usage | tier_step | cap | minimum_true_up | one_time | parameter_info
    quantity: Decimal
    unit_price: Decimal
    amount: Money
    detail: str | None = None


def aggregate(events: Sequence[dict[str, Any]], aggregation: str, field: str | None, period_end: Any = None) -> Decimal:
    if aggregation == "count":
        return Decimal(len(events))
    values = [(e["timestamp"], Decimal(str(e["properties"].get(field, 0)))) for e in events if field in e["properties"]]
    if not values:
        return Decimal(0)
    if aggregation == "sum":
        return sum((v for _, v in values), Decimal(0))
    if aggregation == "max":
        return max(v for _, v in values)
    if aggregation == "unique_count":
        return Decimal(len({str(e["properties"].get(field)) for e in events if field in e["properties"]}))
    ordered = sorted(values, key=lambda tv: tv[0])
    if aggregation == "latest":
        return ordered[-1][1]
    if aggregation == "time_weighted_sum":  # value held until the next event, in hours (e.g. GB-hours)
        total = Decimal(0)
        for (t, v), (t_next, _) in zip(ordered, ordered[1:] + [(period_end or ordered[-1][0], Decimal(0))]):
            total += v * Decimal((t_next - t).total_seconds()) / Decimal(3600)
        return total
    raise ValueError(f"unknown aggregation {aggregation!r}")


def fmt(d: Decimal) -> str:
    """A decimal as people write it: no exponent, no trailing zeros."""
    return format(d.normalize(), "f")


def _money(amount: Decimal, currency: str, rounding: Rounding) -> Money:
    return Money.from_decimal(amount, currency, rounding)


def _usage_lines(charge: Charge, qty: Decimal, currency: str, rounding: Rounding, label: str) -> list[PricedLine]:
    billable = max(Decimal(0), qty - charge.free_units)
    free_note = f"{fmt(charge.free_units)} frei" if charge.free_units else None
    if charge.model == "per_unit":
        return [PricedLine(label, "usage", billable, charge.unit_price, _money(billable * charge.unit_price, currency, rounding), free_note)]
    if charge.model == "package":
        packages = (billable / charge.package_size).to_integral_value(rounding=ROUND_CEILING)
        return [PricedLine(f"{label} (je {fmt(charge.package_size)})", "usage", packages, charge.package_price,
                           _money(packages * charge.package_price, currency, rounding), free_note)]
    if charge.model == "volume":
        tier = next(t for t in charge.tiers if t.up_to is None or billable <= t.up_to)
        lines = [PricedLine(label, "usage", billable, tier.unit_price, _money(billable * tier.unit_price, currency, rounding), free_note)]
        if tier.flat_fee and billable > 0:
            lines.append(PricedLine(f"{label} – Grundpreis Staffel", "tier_step", Decimal(1), tier.flat_fee, _money(tier.flat_fee, currency, rounding)))
        return lines
    if charge.model == "graduated":
        lines, lower = [], Decimal(0)
        for tier in charge.tiers:
            if billable <= lower:
                break
            upper = billable if tier.up_to is None else min(billable, tier.up_to)
            units = upper - lower
            bound = f"{fmt(lower + 1)}–{fmt(tier.up_to)}" if tier.up_to is not None else f"ab {fmt(lower + 1)}"
            lines.append(PricedLine(f"{label} Staffel {bound}", "tier_step", units, tier.unit_price,
                                    _money(units * tier.unit_price, currency, rounding)))
            if tier.flat_fee:
                lines.append(PricedLine(f"{label} Staffel {bound} – Grundpreis", "tier_step", Decimal(1), tier.flat_fee, _money(tier.flat_fee, currency, rounding)))
            lower = upper if tier.up_to is None else tier.up_to
        return lines
    raise ValueError(charge.model)


def _percentage_lines(charge: Charge, events: Sequence[dict[str, Any]], currency: str, rounding: Rounding, label: str) -> list[PricedLine]:
    total, volume = Decimal(0), Decimal(0)
    for e in events:
        base = Decimal(str(e["properties"].get(charge.amount_field, 0)))
        fee = base * charge.percentage / 100 + (charge.fixed_fee or 0)
        if charge.min_per_transaction is not None:
            fee = max(fee, charge.min_per_transaction)
        if charge.max_per_transaction is not None:
            fee = min(fee, charge.max_per_transaction)
        total += fee
        volume += base
    detail = f"{fmt(charge.percentage)} % von {fmt(volume)}" + (f" + {fmt(charge.fixed_fee)} je Transaktion" if charge.fixed_fee else "")
    return [PricedLine(label, "usage", Decimal(len(events)), (total / len(events)) if events else Decimal(0), _money(total, currency, rounding), detail)]


def price_charge(charge: Charge, currency: str, events: Sequence[dict[str, Any]], aggregation: str, field: str | None,
                 factor: Decimal, first_period: bool = True, period_end: Any = None, rounding: Rounding = DEFAULT_ROUNDING) -> list[PricedLine]:
    """The lines of one charge in one period. `factor` prorates fixed fees for partial periods."""
    if charge.model == "flat_fee":
        detail = None if factor == 1 else f"anteilig {(factor * 100).quantize(Decimal('0.01'))} %"
        return [PricedLine(charge.name, "fee", factor, charge.amount, _money(charge.amount * factor, currency, rounding), detail)]
    if charge.model == "one_time":
        return [PricedLine(charge.name, "one_time", Decimal(1), charge.amount, _money(charge.amount, currency, rounding))] if first_period else []
    groups: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        key = str(e["properties"].get(charge.group_by, "–")) if charge.group_by else ""
        groups.setdefault(key, []).append(e)
    if not groups:
        groups[""] = []
    lines: list[PricedLine] = []
    for key in sorted(groups):
        label = f"{charge.name} ({charge.group_by}: {key})" if charge.group_by else charge.name
        if charge.model == "percentage":
            lines.extend(_percentage_lines(charge, groups[key], currency, rounding, label))
        else:
            lines.extend(_usage_lines(charge, aggregate(groups[key], aggregation, field, period_end), currency, rounding, label))
    subtotal = sum((l.amount.minor for l in lines), 0)
    if charge.maximum_amount is not None:
        cap = _money(charge.maximum_amount, currency, rounding)
        if subtotal > cap.minor:
            reduction = Money(cap.minor - subtotal, currency)
            lines.append(PricedLine(f"{charge.name} – Begrenzung auf Maximalpreis {cap}", "cap", Decimal(1), reduction.amount, reduction))
    if charge.minimum_amount is not None:
        minimum = _money(charge.minimum_amount * factor, currency, rounding)
        if subtotal < minimum.minor:
            true_up = Money(minimum.minor - subtotal, currency)
            lines.append(PricedLine(f"{charge.name} – Mindestumsatz {minimum}", "minimum_true_up", Decimal(1), true_up.amount, true_up))
    return lines
