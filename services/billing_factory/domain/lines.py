"""The rated line: what a customer sees on an invoice for one charge, step, cap or discount.

A line's `amount` is already rounded to the currency's minor unit with the
plan's rounding policy; an invoice total is the plain sum of its lines and
VAT is computed later, per rate, on those sums (EN 16931 BR-CO-10/13/17).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import NamedTuple

from libs.money import Money


class LineKind(str, Enum):
    FEE = "fee"  # recurring fixed fee or bundle price, prorated by day
    USAGE = "usage"  # per unit, volume, package or percentage of usage
    TIER_STEP = "tier_step"  # one step of a graduated price, or a tier's flat fee
    CAP = "cap"  # negative: the reduction down to the maximum price per period
    MINIMUM_TRUE_UP = "minimum_true_up"  # the difference up to a minimum commitment
    DISCOUNT = "discount"  # negative
    CREDIT = "credit"  # negative
    ONE_TIME = "one_time"
    PARAMETER_INFO = "parameter_info"  # amount zero: a property's value or summed amount, free units


class Line(NamedTuple):
    """One invoice line. A named tuple, not a dataclass: rating builds about sixteen per subscription period, and a tuple
    is built in one step, where a frozen dataclass sets its fourteen fields one by one; it is as immutable."""

    charge_code: str
    kind: LineKind
    description: str
    product: str
    quantity: Decimal
    unit_price: Decimal
    amount: Money
    tax_category: str
    tax_rate: Decimal
    period_start: datetime
    period_end: datetime
    group_key: str | None = None
    info: str | None = None
    unit_code: str = "C62"


def total_minor(lines: list[Line]) -> int:
    """The net total of lines in minor units (all lines of one rating share one currency)."""
    return sum(line.amount.minor for line in lines)


def fmt(value: Decimal) -> str:
    """A decimal as people write it: no exponent, no trailing zeros."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _trusted_money():
    """Money for a currency the plan has already checked, without re-checking it on every line."""
    new = object.__new__
    set_minor, set_currency = Money.minor.__set__, Money.currency.__set__

    def make_money(minor: int, currency: str) -> Money:
        money = new(Money)
        set_minor(money, minor)
        set_currency(money, currency)
        return money

    return make_money


make_money = _trusted_money()
