"""Charge models: what a plan charges for and at which price, as plain frozen data.

A `Charge` has a base `price` and optional dated `versions` that replace it
while they are valid (a price change inside a period splits that period's
lines). Recurring and one-time prices (`FlatFee`, `Bundle`, `OneTime`) need
no metric; usage prices (`PerUnit`, `Graduated`, `Volume`, `Package`,
`Percentage`) price the quantity of the charge's metric. Prices are major
units as `Decimal`; percentages are percent (`Decimal('2.9')` = 2.9 %).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal, Union

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Tier:
    up_to: Decimal | None  # inclusive upper bound; None = open-ended (last tier only)
    unit_price: Decimal
    flat_fee: Decimal = _ZERO


@dataclass(frozen=True, slots=True)
class FlatFee:
    """A recurring fee per period, prorated by day; in advance unless the plan or this says otherwise."""

    amount: Decimal
    in_advance: bool | None = None  # None: the plan's pay_in_advance


@dataclass(frozen=True, slots=True)
class Bundle:
    """Several products or an edition at one package price per period, listed as info lines."""

    amount: Decimal
    components: tuple[str, ...]
    in_advance: bool | None = None


@dataclass(frozen=True, slots=True)
class OneTime:
    """Charged once, in the subscription's first period (a setup fee, a server licence)."""

    amount: Decimal
    quantity: Decimal = Decimal(1)


@dataclass(frozen=True, slots=True)
class PerUnit:
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class Graduated:
    """Each tier prices the units that fall into it ("Staffel"); a tier's flat fee is due once it is reached."""

    tiers: tuple[Tier, ...]


@dataclass(frozen=True, slots=True)
class Volume:
    """All units at the price of the tier the total reaches, plus that tier's flat fee."""

    tiers: tuple[Tier, ...]


@dataclass(frozen=True, slots=True)
class Package:
    """A price per started block of `size` units (e.g. per started 1,000 calls)."""

    size: Decimal
    price: Decimal


@dataclass(frozen=True, slots=True)
class Percentage:
    """Percent of each transaction's amount plus a fixed fee, bounded per transaction."""

    rate: Decimal  # percent
    amount_field: str  # the event property that holds the transaction amount
    fixed_fee: Decimal = _ZERO
    min_fee: Decimal | None = None
    max_fee: Decimal | None = None


FixedPrice = Union[FlatFee, Bundle, OneTime]
UsagePrice = Union[PerUnit, Graduated, Volume, Package, Percentage]
PriceModel = Union[FixedPrice, UsagePrice]
FIXED_MODELS = (FlatFee, Bundle, OneTime)
USAGE_MODELS = (PerUnit, Graduated, Volume, Package, Percentage)


@dataclass(frozen=True, slots=True)
class PriceVersion:
    """A price valid in [valid_from, valid_until); outside every version the charge's base price applies."""

    valid_from: datetime
    valid_until: datetime | None
    price: PriceModel


@dataclass(frozen=True, slots=True)
class ParameterInfo:
    """An info line under a usage charge: the distinct values of a property, or its summed amount."""

    property: str
    mode: Literal["value", "sum"] = "value"
    label: str | None = None


@dataclass(frozen=True, slots=True)
class Charge:
    code: str
    name: str
    price: PriceModel
    metric: str | None = None
    product: str | None = None  # product / component shown on the line; defaults to name
    versions: tuple[PriceVersion, ...] = ()
    free_units: Decimal = _ZERO  # per period (and per group), consumed first
    minimum: Decimal | None = None  # minimum commitment per period, prorated; true-up line
    maximum: Decimal | None = None  # maximum price per period, prorated; its own negative line
    tax_category: str = "S"  # EN 16931 UNCL5305: S, Z, E, AE, K, G, O
    tax_rate: Decimal = Decimal(19)  # percent
    unit_code: str = "C62"  # UN/ECE Rec 20
    parameter: ParameterInfo | None = None

    @property
    def is_usage(self) -> bool:
        return isinstance(self.price, USAGE_MODELS)
