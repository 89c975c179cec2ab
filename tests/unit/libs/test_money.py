from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from libs.money import CurrencyMismatch, Money, Rounding, UnknownCurrency, allocate_minor


@pytest.mark.parametrize(
    "amount, currency, rounding, minor",
    [
        ("12.345", "EUR", Rounding.HALF_UP, 1235),
        ("12.345", "EUR", Rounding.HALF_EVEN, 1234),
        ("12.344", "EUR", Rounding.UP, 1235),
        ("-12.345", "EUR", Rounding.HALF_UP, -1235),
        ("1234.5", "JPY", Rounding.HALF_UP, 1235),
        ("1.2345", "KWD", Rounding.HALF_UP, 1235),
        ("0.005", "EUR", Rounding.DOWN, 0),
    ],
)
def test_from_decimal_rounds_by_named_policy(amount, currency, rounding, minor):
    assert Money.from_decimal(Decimal(amount), currency, rounding).minor == minor


def test_floats_and_unknown_currencies_are_refused():
    with pytest.raises(TypeError):
        Money.from_decimal(0.1, "EUR")
    with pytest.raises(UnknownCurrency):
        Money(1, "XXX")
    with pytest.raises(CurrencyMismatch):
        Money(1, "EUR") + Money(1, "USD")
    with pytest.raises(ValueError):
        Money.parse("1.001", "EUR")


@pytest.mark.parametrize(
    "total, weights, parts",
    [
        (100, [1, 1, 1], [34, 33, 33]),
        (-100, [1, 1, 1], [-34, -33, -33]),
        (1, [1, 1], [1, 0]),
        (1000, ["0.7", "0.2", "0.1"], [700, 200, 100]),
        (5, [0, 1], [0, 5]),
    ],
)
def test_allocation_examples(total, weights, parts):
    assert allocate_minor(total, weights) == parts


@given(
    st.integers(min_value=-10**12, max_value=10**12),
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=20).filter(lambda ws: sum(ws) > 0),
)
def test_allocation_sums_exactly_and_each_part_is_within_one_unit(total, weights):
    parts = allocate_minor(total, weights)
    assert sum(parts) == total
    weight_sum = sum(weights)
    for part, w in zip(parts, weights):
        exact = Decimal(total) * w / weight_sum
        assert abs(Decimal(part) - exact) < 1
