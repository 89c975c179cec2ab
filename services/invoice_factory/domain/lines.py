"""An invoice line: what was supplied, how much, at what price, and how it is taxed.

Lines come from rating: a subscription fee, usage per event, one line per
price step of a graduated tier, a cap ("Begrenzung auf Maximalpreis") as its
own negative line, a parameter's value as detail text. The net amount is
rating's rounded result and is taken as is; the unit price may carry more
decimals than the currency (0.002 EUR per call). A deduction has a negative
net and a non-negative price, as EN 16931 forbids negative prices (BR-27).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from libs.money import Money


class TaxCategory(StrEnum):
    """UNTDID 5305 VAT category codes allowed by EN 16931 (BT-151)."""

    STANDARD = "S"
    ZERO = "Z"
    EXEMPT = "E"
    REVERSE_CHARGE = "AE"
    INTRA_COMMUNITY = "K"
    EXPORT = "G"
    NOT_SUBJECT = "O"


class LineKind(StrEnum):
    FEE = "fee"
    USAGE = "usage"
    TIER_STEP = "tier_step"
    CAP = "cap"
    ONE_TIME = "one_time"
    DISCOUNT = "discount"
    CREDIT = "credit"
    MINIMUM_TRUE_UP = "minimum_true_up"
    PARAMETER_INFO = "parameter_info"
    ADJUSTMENT = "adjustment"  # late usage for a period already invoiced, billed on the next invoice


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends {self.end} before it starts {self.start}")


@dataclass(frozen=True)
class InvoiceLine:
    position: int
    description: str
    quantity: Decimal
    unit_code: str  # UN/ECE Recommendation 20, e.g. C62 piece, HUR hour, KWH kilowatt hour
    unit_price: Decimal
    net: Money
    tax_category: TaxCategory
    tax_rate: Decimal  # percent, 0 for every category but S
    period: Period | None = None
    detail: str | None = None  # parameter info, tier bounds: printed under the line, BT-154 in the XML
    kind: LineKind = LineKind.USAGE
