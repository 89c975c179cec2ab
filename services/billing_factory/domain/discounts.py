"""Discounts, coupons and credits: negative lines after the charges, split by VAT rate.

A reduction must carry a VAT category and rate like any line (EN 16931
allowances do), so one that covers lines of several rates is split across
them: a percentage per rate, a fixed amount by largest-remainder allocation
in proportion to each rate's net. Reductions never take a rate's net below
zero; a credit is applied after all discounts, up to what is left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Sequence

from libs.money import Money, Rounding, allocate_minor
from services.billing_factory.domain.errors import InvalidPlan
from services.billing_factory.domain.lines import Line, LineKind, fmt

_REDUCTIONS = (LineKind.DISCOUNT, LineKind.CREDIT, LineKind.PARAMETER_INFO)
_ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class Discount:
    """A percentage or fixed reduction for `periods` periods from `first_period_index` (None: for good)."""

    code: str
    name: str
    percentage: Decimal | None = None
    amount: Decimal | None = None
    periods: int | None = None
    first_period_index: int = 0
    charge_codes: frozenset[str] = frozenset()  # empty: every charge

    def applies_in(self, period_index: int) -> bool:
        offset = period_index - self.first_period_index
        return offset >= 0 and (self.periods is None or offset < self.periods)

    def validate(self) -> None:
        if (self.percentage is None) == (self.amount is None):
            raise InvalidPlan("percentage", "a discount is either a percentage or an amount")
        value = self.percentage if self.percentage is not None else self.amount
        if not isinstance(value, Decimal) or value < 0 or (self.percentage is not None and value > 100):
            raise InvalidPlan("percentage" if self.percentage is not None else "amount", "must be a Decimal from 0 (to 100 for percent)")
        if self.periods is not None and self.periods < 1:
            raise InvalidPlan("periods", "must be at least 1")


@dataclass(frozen=True, slots=True)
class Credit:
    """Credit the customer holds (loyalty points, goodwill), used up to the amount still due."""

    code: str
    name: str
    unit_amount: Decimal
    quantity: Decimal = _ONE


Group = tuple[str, Decimal]


def _nets(lines: Sequence[Line], codes: frozenset[str] | None) -> dict[Group, int]:
    nets: dict[Group, int] = {}
    for line in lines:
        if line.kind not in _REDUCTIONS and (not codes or line.charge_code in codes):
            key = (line.tax_category, line.tax_rate)
            nets[key] = nets.get(key, 0) + line.amount.minor
    return nets


def _line(code: str, kind: LineKind, name: str, group: Group, minor: int, currency: str,
          start: datetime, end: datetime, quantity: Decimal = _ONE, unit: Decimal | None = None, info: str | None = None) -> Line:
    money = Money(-minor, currency)
    return Line(code, kind, name, name, quantity, money.amount if unit is None else -unit, money, group[0], group[1],
                start, end, None, info)


def reduction_lines(discounts: Sequence[Discount], credits: Sequence[Credit], lines: Sequence[Line], period_index: int,
                    currency: str, rounding: Rounding, start: datetime, end: datetime) -> list[Line]:
    """Discount lines, then credit lines, for the charge lines of one period."""
    remaining = _nets(lines, None)
    out: list[Line] = []
    for d in discounts:
        if not d.applies_in(period_index):
            continue
        scoped = _nets(lines, d.charge_codes)
        base = {k: max(0, min(v, remaining.get(k, 0))) for k, v in scoped.items()}
        if d.percentage is not None:
            parts = {k: int((Decimal(v) * d.percentage / 100).quantize(_ONE, rounding=rounding.decimal_mode)) for k, v in base.items()}
            info = f"{fmt(d.percentage)} %"
        else:
            parts = _split(Money.from_decimal(d.amount, currency, rounding).minor, base)
            info = None
        for k, minor in parts.items():
            if minor > 0:
                out.append(_line(d.code, LineKind.DISCOUNT, d.name, k, minor, currency, start, end, info=info))
                remaining[k] -= minor
    for c in credits:
        whole = Money.from_decimal(c.unit_amount * c.quantity, currency, rounding).minor
        parts = _split(whole, {k: max(0, v) for k, v in remaining.items()})
        used = {k: m for k, m in parts.items() if m > 0}
        for k, minor in used.items():
            exact = len(used) == 1 and minor == whole
            out.append(_line(c.code, LineKind.CREDIT, c.name, k, minor, currency, start, end,
                             c.quantity if exact else _ONE, c.unit_amount if exact else None))
            remaining[k] -= minor
    return out


def _split(amount_minor: int, base: dict[Group, int]) -> dict[Group, int]:
    """Up to `amount_minor`, no more than the bases hold, split in proportion to them."""
    available = sum(base.values())
    if available <= 0 or amount_minor <= 0:
        return {}
    keys = list(base)
    return dict(zip(keys, allocate_minor(min(amount_minor, available), [base[k] for k in keys])))
