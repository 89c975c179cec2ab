from datetime import datetime, timezone
from decimal import Decimal as D

import pytest
from hypothesis import given, strategies as st

from services.billing_factory.domain.billing_periods import Interval, period_containing, periods_between, proration


def utc(*a):
    return datetime(*a, tzinfo=timezone.utc)


@pytest.mark.parametrize("interval, t, expected", [
    (Interval("month"), utc(2026, 2, 14), (utc(2026, 2, 1), utc(2026, 3, 1))),
    (Interval("quarter"), utc(2026, 5, 3), (utc(2026, 4, 1), utc(2026, 7, 1))),
    (Interval("year"), utc(2026, 12, 31, 23), (utc(2026, 1, 1), utc(2027, 1, 1))),
    (Interval("week"), utc(2026, 11, 26), (utc(2026, 11, 23), utc(2026, 11, 30))),
    (Interval("month", "anniversary"), utc(2026, 3, 10), (utc(2026, 2, 28, 12), utc(2026, 3, 31, 12))),
])
def test_period_containing(interval, t, expected):
    start = utc(2026, 1, 31, 12) if interval.alignment == "anniversary" else utc(2026, 1, 1)
    assert period_containing(interval, start, t) == expected


def test_anniversary_periods_do_not_drift_after_short_months():
    periods = periods_between(Interval("month", "anniversary"), utc(2026, 1, 31), utc(2026, 5, 1))
    assert [p[0].day for p in periods] == [31, 28, 31, 30]


@given(st.integers(min_value=1, max_value=30))
def test_prorated_parts_of_a_period_sum_to_the_whole(split_day):
    start, end = utc(2026, 11, 1), utc(2026, 12, 1)
    cut = utc(2026, 11, 1 + split_day - 1) if split_day > 1 else start
    before = proration(Interval("month"), start, end, start, cut)
    after = proration(Interval("month"), start, end, cut, None)
    assert before + after == D(1)
