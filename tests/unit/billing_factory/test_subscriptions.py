"""What a subscription brings to a period is checked when built, naming the field."""

from decimal import Decimal as D

import pytest

from services.billing_factory.domain import Credit, Discount, InvalidSubscription, OneTimeItem, SubscriptionPeriod
from tests.unit.billing_factory.rating_helpers import NOV, utc


@pytest.mark.parametrize("kwargs, field", [
    ({"ends_at": NOV.start}, "ends_at"),
    ({"period_index": -1}, "period_index"),
    ({"pauses": ((utc(2026, 11, 5), utc(2026, 11, 5)),)}, "pauses[0]"),
    ({"coupons": (Discount("c", "C"),)}, "coupons[0].percentage"),
    ({"coupons": (Discount("c", "C", amount=D(5), periods=0),)}, "coupons[0].periods"),
    ({"credits": (Credit("c", "C", D(-5)),)}, "credits[0].unit_amount"),
    ({"credits": (Credit("c", "C", D(5), D(0)),)}, "credits[0].quantity"),
    ({"one_time_items": (OneTimeItem("w", "W", D(1), "7500"),)}, "one_time_items[0].unit_price"),
    ({"one_time_items": (OneTimeItem("w", "W", D(1), D(1), tax_category="E", tax_rate=D(19)),)}, "one_time_items[0].tax_rate"),
])
def test_invalid_subscription_input_names_the_field(kwargs, field):
    with pytest.raises(InvalidSubscription) as err:
        SubscriptionPeriod(NOV, NOV.start, **kwargs)
    assert err.value.field == field
