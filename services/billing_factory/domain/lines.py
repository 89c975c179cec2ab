"""The rated line: what a customer sees on an invoice for one charge, step, cap or discount.

A line's `amount` is already rounded to the currency's minor unit with the
plan's rounding policy; an invoice total is the plain sum of its lines and
VAT is computed later, per rate, on those sums (EN 16931 BR-CO-10/13/17).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum

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


@dataclass(frozen=True, slots=True)
class Line:
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


def _trusted_constructor():
    """Build Lines from values rating has already validated, at a third of the frozen __init__'s cost.

    A frozen dataclass sets every field through object.__setattr__; with
    fourteen fields that dominated rating time. This sets the same slots
    directly; the result equals `Line(...)` (a unit test checks it).
    """
    new = object.__new__
    (s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14) = (getattr(Line, name).__set__ for name in Line.__dataclass_fields__)

    def make_line(charge_code, kind, description, product, quantity, unit_price, amount, tax_category, tax_rate,
                  period_start, period_end, group_key=None, info=None, unit_code="C62") -> Line:
        line = new(Line)
        s1(line, charge_code), s2(line, kind), s3(line, description), s4(line, product), s5(line, quantity)
        s6(line, unit_price), s7(line, amount), s8(line, tax_category), s9(line, tax_rate), s10(line, period_start)
        s11(line, period_end), s12(line, group_key), s13(line, info), s14(line, unit_code)
        return line

    return make_line


make_line = _trusted_constructor()


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
