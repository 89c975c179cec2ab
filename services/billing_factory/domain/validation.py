"""Rules a charge must satisfy before it can be rated, each failure naming its field.

Plans validate once when built, so rating never re-checks: tiers are ordered,
contiguous and non-overlapping (each tier starts where the previous one
ends, only the last is open-ended), prices are `Decimal` and not negative.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable

from services.billing_factory.domain.charges import (
    FIXED_MODELS, USAGE_MODELS, Bundle, Charge, FlatFee, Graduated, OneTime, Package, Percentage, PerUnit, PriceModel,
    Tier, Volume,
)
from services.billing_factory.domain.errors import InvalidPlan

TAX_CATEGORIES = frozenset({"S", "Z", "E", "AE", "K", "G", "O"})
_ZERO = Decimal(0)


def _amount(field: str, value: object, positive: bool = False) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InvalidPlan(field, "must be a finite Decimal")
    if value < 0 or (positive and value == 0):
        raise InvalidPlan(field, "must be positive" if positive else "must not be negative")


def validate_tiers(tiers: tuple[Tier, ...]) -> None:
    if not tiers:
        raise InvalidPlan("tiers", "needs at least one tier")
    previous = _ZERO
    for i, tier in enumerate(tiers):
        _amount(f"tiers[{i}].unit_price", tier.unit_price)
        _amount(f"tiers[{i}].flat_fee", tier.flat_fee)
        if tier.up_to is None:
            if i != len(tiers) - 1:
                raise InvalidPlan(f"tiers[{i}].up_to", "only the last tier may be open-ended")
            continue
        _amount(f"tiers[{i}].up_to", tier.up_to, positive=True)
        if tier.up_to <= previous:
            raise InvalidPlan(f"tiers[{i}].up_to", f"must be above the previous tier's bound {previous}: tiers are ordered and do not overlap")
        previous = tier.up_to
    if tiers[-1].up_to is not None:
        raise InvalidPlan(f"tiers[{len(tiers) - 1}].up_to", "the last tier must be open-ended (None)")


def validate_price(price: PriceModel) -> None:
    if isinstance(price, (FlatFee, OneTime, Bundle)):
        _amount("amount", price.amount)
        if isinstance(price, OneTime):
            _amount("quantity", price.quantity, positive=True)
        if isinstance(price, Bundle) and not price.components:
            raise InvalidPlan("components", "a bundle names at least one component")
    elif isinstance(price, PerUnit):
        _amount("unit_price", price.unit_price)
    elif isinstance(price, (Graduated, Volume)):
        validate_tiers(price.tiers)
    elif isinstance(price, Package):
        _amount("size", price.size, positive=True)
        _amount("price", price.price)
    elif isinstance(price, Percentage):
        _amount("rate", price.rate)
        _amount("fixed_fee", price.fixed_fee)
        if not price.amount_field:
            raise InvalidPlan("amount_field", "names the event property holding the transaction amount")
        for name in ("min_fee", "max_fee"):
            if getattr(price, name) is not None:
                _amount(name, getattr(price, name))
        if price.min_fee is not None and price.max_fee is not None and price.max_fee < price.min_fee:
            raise InvalidPlan("max_fee", "must not be below min_fee")
    else:
        raise InvalidPlan("", f"unknown price model {type(price).__name__}")


def validate_charge(charge: Charge, metric_codes: Iterable[str]) -> None:
    """Raise InvalidPlan with a field path relative to the charge."""
    if not charge.code:
        raise InvalidPlan("code", "must not be empty")
    try:
        validate_price(charge.price)
    except InvalidPlan as exc:
        raise exc.under("price") from None
    usage = charge.is_usage
    previous_end = None
    for i, version in enumerate(charge.versions):
        try:
            validate_price(version.price)
        except InvalidPlan as exc:
            raise exc.under(f"versions[{i}].price") from None
        if isinstance(version.price, USAGE_MODELS) != usage or isinstance(version.price, OneTime):
            raise InvalidPlan(f"versions[{i}].price", "a version must be the same kind of price (usage or recurring) as the base price")
        if version.valid_until is not None and version.valid_until <= version.valid_from:
            raise InvalidPlan(f"versions[{i}].valid_until", "must be after valid_from")
        if previous_end is not None and version.valid_from < previous_end:
            raise InvalidPlan(f"versions[{i}].valid_from", "versions are ordered and must not overlap")
        if version.valid_until is None and i != len(charge.versions) - 1:
            raise InvalidPlan(f"versions[{i}].valid_until", "only the last version may be open-ended")
        previous_end = version.valid_until
    if usage:
        if not charge.metric:
            raise InvalidPlan("metric", "a usage price needs a metric")
        if charge.metric not in metric_codes:
            raise InvalidPlan("metric", f"unknown metric {charge.metric!r}")
        _amount("free_units", charge.free_units)
        for name in ("minimum", "maximum"):
            if getattr(charge, name) is not None:
                _amount(name, getattr(charge, name))
        if charge.minimum is not None and charge.maximum is not None and charge.maximum < charge.minimum:
            raise InvalidPlan("maximum", "must not be below minimum")
        if isinstance(charge.price, Percentage) and charge.free_units:
            raise InvalidPlan("free_units", "a percentage price has no free units")
    elif isinstance(charge.price, FIXED_MODELS):
        for name in ("minimum", "maximum"):
            if getattr(charge, name) is not None:
                raise InvalidPlan(name, "only usage prices have a minimum or maximum per period")
        if charge.free_units:
            raise InvalidPlan("free_units", "only usage prices have free units")
    validate_tax(charge.tax_category, charge.tax_rate)


def validate_tax(category: str, rate: object) -> None:
    if category not in TAX_CATEGORIES:
        raise InvalidPlan("tax_category", f"unknown EN 16931 tax category {category!r}")
    _amount("tax_rate", rate)
    if category == "S" and rate == 0:
        raise InvalidPlan("tax_rate", "standard-rated (S) needs a rate above zero")
    if category != "S" and rate != 0:
        raise InvalidPlan("tax_rate", f"category {category} has a rate of zero")
