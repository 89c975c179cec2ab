"""What a subscription brings to the period being rated: its dates, pauses, coupons, credits, bookings.

Checked when built, like a plan, so rating can trust it. Pauses stop the
recurring fees (prorated by day); usage in a pause is still rated, since
whatever was used was delivered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from services.billing_factory.domain.discounts import Credit, Discount
from services.billing_factory.domain.errors import InvalidField, InvalidSubscription
from services.billing_factory.domain.periods import Period
from services.billing_factory.domain.validation import validate_tax


@dataclass(frozen=True, slots=True)
class OneTimeItem:
    """An ad-hoc charge booked for this period (a workshop, a licence)."""

    code: str
    name: str
    quantity: Decimal
    unit_price: Decimal
    tax_category: str = "S"
    tax_rate: Decimal = Decimal(19)
    product: str | None = None
    unit_code: str = "C62"


@dataclass(frozen=True, slots=True)
class SubscriptionPeriod:
    """The period being rated and the subscription's state in it.

    A plan change inside a period is two ratings: the old plan with
    `ends_at` = the change, the new plan with `started_at` = the change;
    their fees add up to exactly one period's.
    """

    period: Period
    started_at: datetime
    ends_at: datetime | None = None
    pauses: tuple[tuple[datetime, datetime], ...] = ()
    period_index: int = 0  # periods billed before this one; coupons count their periods by it
    coupons: tuple[Discount, ...] = ()
    credits: tuple[Credit, ...] = ()
    one_time_items: tuple[OneTimeItem, ...] = ()

    def __post_init__(self) -> None:
        if self.ends_at is not None and self.ends_at <= self.started_at:
            raise InvalidSubscription("ends_at", "must be after started_at")
        if self.period_index < 0:
            raise InvalidSubscription("period_index", "must not be negative")
        for i, (start, end) in enumerate(self.pauses):
            if end <= start:
                raise InvalidSubscription(f"pauses[{i}]", "a pause must end after it starts")
        for i, coupon in enumerate(self.coupons):
            _check(f"coupons[{i}]", coupon.validate)
        for i, credit in enumerate(self.credits):
            if not _decimal(credit.unit_amount) or credit.unit_amount < 0:
                raise InvalidSubscription(f"credits[{i}].unit_amount", "must be a Decimal, not negative")
            if not _decimal(credit.quantity) or credit.quantity <= 0:
                raise InvalidSubscription(f"credits[{i}].quantity", "must be a positive Decimal")
        for i, item in enumerate(self.one_time_items):
            for name in ("quantity", "unit_price"):
                if not _decimal(getattr(item, name)):
                    raise InvalidSubscription(f"one_time_items[{i}].{name}", "must be a finite Decimal")
            _check(f"one_time_items[{i}]", lambda: validate_tax(item.tax_category, item.tax_rate))


def _decimal(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite()


def _check(prefix: str, validate) -> None:
    try:
        validate()
    except InvalidField as exc:
        raise InvalidSubscription(f"{prefix}.{exc.field}", exc.reason) from None
