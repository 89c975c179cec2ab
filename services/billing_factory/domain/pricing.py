"""Usage prices as pure functions: a quantity in, the price steps a customer sees out.

A step is (kind, label, quantity, unit price) with the exact amount
quantity x unit price; rating rounds it into a line. `before` is the billable
quantity already priced earlier in the same period (when a price change
splits it), so tiers and started packages continue instead of restarting.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from typing import Sequence

from services.billing_factory.domain.charges import Graduated, Package, Percentage, PerUnit, Tier, UsagePrice, Volume
from services.billing_factory.domain.labels import Labels
from services.billing_factory.domain.lines import LineKind, fmt

Step = tuple[LineKind, str, Decimal, Decimal]
_ZERO = Decimal(0)
_ONE = Decimal(1)
_USAGE, _STEP = LineKind.USAGE, LineKind.TIER_STEP


def usage_steps(price: UsagePrice, quantity: Decimal, before: Decimal, total: Decimal, labels: Labels) -> list[Step]:
    """Steps for `quantity` billable units following `before` units, `total` units in the whole period."""
    if type(price) is PerUnit:
        return [(_USAGE, "", quantity, price.unit_price)] if quantity else []
    if type(price) is Graduated:
        return _graduated(price.tiers, quantity, before, labels)
    if type(price) is Volume:
        return _volume(price.tiers, quantity, before, total, labels)
    if type(price) is Package:
        started = _ceil(before + quantity, price.size) - _ceil(before, price.size)
        return [(_USAGE, f"{labels.package_of} {fmt(price.size)}", started, price.price)] if started else []
    raise TypeError(f"{type(price).__name__} is not priced by quantity")


def _ceil(units: Decimal, size: Decimal) -> Decimal:
    return (units / size).to_integral_value(rounding=ROUND_CEILING)


def tier_label(lower: Decimal, up_to: Decimal | None, labels: Labels) -> str:
    first = lower + 1 if lower == lower.to_integral_value() else lower
    if up_to is None:
        return f"{labels.tier} {labels.tier_from} {fmt(first)}"
    return f"{labels.tier} {fmt(first)}–{fmt(up_to)}"


_label_cache: dict[tuple[int, int], tuple[tuple[Tier, ...], Labels, tuple[str, ...]]] = {}


def tier_labels(tiers: tuple[Tier, ...], labels: Labels) -> tuple[str, ...]:
    """Each tier's label, formatted once per (tiers, labels) pair; plans are long-lived and rated often."""
    cached = _label_cache.get((id(tiers), id(labels)))
    if cached is not None and cached[0] is tiers and cached[1] is labels:  # identity check: ids can be reused
        return cached[2]
    lowers = (_ZERO,) + tuple(t.up_to for t in tiers[:-1])
    texts = tuple(tier_label(lower, tier.up_to, labels) for lower, tier in zip(lowers, tiers))
    if len(_label_cache) > 4096:
        _label_cache.clear()
    _label_cache[(id(tiers), id(labels))] = (tiers, labels, texts)
    return texts


def _graduated(tiers: tuple[Tier, ...], quantity: Decimal, before: Decimal, labels: Labels) -> list[Step]:
    steps: list[Step] = []
    upto = before + quantity
    lower = _ZERO
    texts = tier_labels(tiers, labels)
    for i, tier in enumerate(tiers):
        if lower >= upto:
            break
        upper = upto if tier.up_to is None or tier.up_to > upto else tier.up_to
        start = lower if lower > before else before
        if upper > start:
            label = texts[i]
            steps.append((_STEP, label, upper - start, tier.unit_price))
            if tier.flat_fee and before <= lower:
                steps.append((_STEP, f"{label} {labels.tier_flat_fee}", _ONE, tier.flat_fee))
        if tier.up_to is None:
            break
        lower = tier.up_to
    return steps


def _volume(tiers: tuple[Tier, ...], quantity: Decimal, before: Decimal, total: Decimal, labels: Labels) -> list[Step]:
    index = len(tiers) - 1
    for i, tier in enumerate(tiers):
        if tier.up_to is None or total <= tier.up_to:
            index = i
            break
    reached, label = tiers[index], tier_labels(tiers, labels)[index]
    steps: list[Step] = [(_USAGE, label, quantity, reached.unit_price)] if quantity else []
    if reached.flat_fee and total and before + quantity == total:
        steps.append((_STEP, f"{label} {labels.tier_flat_fee}", _ONE, reached.flat_fee))
    return steps


def percentage_steps(price: Percentage, amounts: Sequence[Decimal], labels: Labels) -> list[Step]:
    """Percent of the volume, the fixed fees, and what the per-transaction bounds add or take away."""
    if not amounts:
        return []
    volume = sum(amounts, _ZERO)
    share = price.rate / 100
    steps: list[Step] = [(_USAGE, f"{fmt(price.rate)} {labels.percent_of} {fmt(volume)}", volume, share)]
    if price.fixed_fee:
        steps.append((_USAGE, labels.fixed_per_transaction, Decimal(len(amounts)), price.fixed_fee))
    if price.min_fee is not None or price.max_fee is not None:
        low, high, fixed = price.min_fee, price.max_fee, price.fixed_fee
        adjustment = _ZERO
        for amount in amounts:
            fee = amount * share + fixed
            if low is not None and fee < low:
                adjustment += low - fee
            elif high is not None and fee > high:
                adjustment += high - fee
        if adjustment:
            steps.append((_USAGE, labels.per_transaction_limits, _ONE, adjustment))
    return steps
