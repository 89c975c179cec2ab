"""Exact money: integer minor units per ISO 4217 currency, Decimal prices, named rounding.

Amounts never pass through float. A `Money` is an integer count of the
currency's minor unit (cents for EUR, yen for JPY, fils for KWD). Unit prices
and quantities may carry more decimals and stay `Decimal` until a named
rounding policy turns a product into `Money`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from enum import Enum
from typing import Iterable, Sequence


class UnknownCurrency(ValueError):
    """The code is not an ISO 4217 currency this platform bills in."""


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies were combined."""


# ISO 4217 minor-unit exponents of the currencies we bill in. Extend as needed.
MINOR_UNITS: dict[str, int] = {
    "EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "SEK": 2, "NOK": 2, "DKK": 2, "PLN": 2,
    "CZK": 2, "HUF": 2, "RON": 2, "BGN": 2, "CAD": 2, "AUD": 2, "NZD": 2, "CNY": 2,
    "INR": 2, "BRL": 2, "MXN": 2, "ZAR": 2, "SGD": 2, "HKD": 2, "TRY": 2,
    "JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0,
    "KWD": 3, "BHD": 3, "OMR": 3, "JOD": 3, "TND": 3,
}


def minor_unit_exponent(currency: str) -> int:
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise UnknownCurrency(f"unknown currency {currency!r}") from None


def check_currency(currency: str) -> str:
    minor_unit_exponent(currency)
    return currency


class Rounding(str, Enum):
    """Named rounding policies. Commercial rounding (half up) is the default in Germany."""

    HALF_UP = "half_up"
    HALF_EVEN = "half_even"
    UP = "up"  # towards +infinity
    DOWN = "down"  # towards zero
    FLOOR = "floor"

    @property
    def decimal_mode(self) -> str:
        return _DECIMAL_MODES[self]


_DECIMAL_MODES = {
    Rounding.HALF_UP: ROUND_HALF_UP,
    Rounding.HALF_EVEN: ROUND_HALF_EVEN,
    Rounding.UP: ROUND_CEILING,
    Rounding.DOWN: ROUND_DOWN,
    Rounding.FLOOR: ROUND_FLOOR,
}
DEFAULT_ROUNDING = Rounding.HALF_UP
_SCALE = {code: Decimal(10) ** exp for code, exp in MINOR_UNITS.items()}
_ONE = Decimal(1)


def to_decimal(value: object) -> Decimal:
    """Parse a price or quantity exactly; floats are refused because they are not exact."""
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError("money and quantities must not be floats; pass str, int or Decimal")
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not a decimal number: {value!r}") from None
    if not result.is_finite():
        raise ValueError("NaN and infinity are not amounts")
    return result


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An amount as an integer of the currency's minor unit."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.minor, int) or isinstance(self.minor, bool):
            raise TypeError("Money.minor must be an int")
        check_currency(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_decimal(cls, amount: object, currency: str, rounding: Rounding = DEFAULT_ROUNDING) -> Money:
        """Round a major-unit amount (e.g. Decimal('12.345') EUR) to the minor unit."""
        scale = _SCALE.get(currency)
        if scale is None:
            raise UnknownCurrency(f"unknown currency {currency!r}")
        value = amount if type(amount) is Decimal and amount.is_finite() else to_decimal(amount)
        return cls(int((value * scale).quantize(_ONE, rounding=_DECIMAL_MODES[rounding])), currency)

    @classmethod
    def parse(cls, text: str, currency: str) -> Money:
        """Parse a major-unit string that must already be exact to the minor unit."""
        exp = minor_unit_exponent(currency)
        value = to_decimal(text)
        scaled = value * (Decimal(10) ** exp)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{text} has more decimals than {currency} allows ({exp})")
        return cls(int(scaled), currency)

    @property
    def amount(self) -> Decimal:
        """The amount in major units, exact."""
        return Decimal(self.minor).scaleb(-minor_unit_exponent(self.currency))

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} vs {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.minor <= other.minor

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor > other.minor

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.minor >= other.minor

    def multiply(self, factor: object, rounding: Rounding = DEFAULT_ROUNDING) -> Money:
        """Scale by an exact factor (a quantity, a percentage as fraction) with a named rounding."""
        product = (Decimal(self.minor) * to_decimal(factor)).quantize(Decimal(1), rounding=rounding.decimal_mode)
        return Money(int(product), self.currency)

    def allocate(self, weights: Sequence[object]) -> list[Money]:
        return [Money(m, self.currency) for m in allocate_minor(self.minor, weights)]

    def format(self) -> str:
        exp = minor_unit_exponent(self.currency)
        return f"{self.amount:.{exp}f} {self.currency}"

    def __str__(self) -> str:
        return self.format()


def money_sum(items: Iterable[Money], currency: str) -> Money:
    total = Money.zero(currency)
    for item in items:
        total = total + item
    return total


def allocate_minor(total: int, weights: Sequence[object]) -> list[int]:
    """Split `total` minor units by `weights` with largest-remainder allocation.

    The parts always sum exactly to `total`; each part is within one minor unit
    of its exact share. Ties in remainders go to the earlier weight, so the
    result is deterministic. A negative total splits like its absolute value
    with the sign kept.
    """
    ws = [to_decimal(w) for w in weights]
    if not ws:
        raise ValueError("need at least one weight")
    if any(w < 0 for w in ws):
        raise ValueError("weights must not be negative")
    weight_sum = sum(ws, Decimal(0))
    if weight_sum == 0:
        raise ValueError("weights must not all be zero")
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    exact = [Decimal(magnitude) * w / weight_sum for w in ws]
    floors = [int(e.to_integral_value(rounding=ROUND_FLOOR)) for e in exact]
    leftover = magnitude - sum(floors)
    order = sorted(range(len(ws)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:leftover]:
        floors[i] += 1
    return [sign * part for part in floors]
