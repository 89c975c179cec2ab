"""Billing periods and proration by day."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import given, strategies as st

from libs.money import Rounding
from services.billing_factory.domain import Alignment, Interval, Period, active_windows, next_period, period_containing, prorate_minor, proration_factor


def utc(*a):
    return datetime(*a, tzinfo=timezone.utc)


CAL, ANN = Alignment.CALENDAR, Alignment.ANNIVERSARY


@pytest.mark.parametrize("interval, alignment, anchor, t, start, end", [
    (Interval.MONTHLY, CAL, utc(2026, 1, 15), utc(2026, 2, 14, 9), utc(2026, 2, 1), utc(2026, 3, 1)),
    (Interval.QUARTERLY, CAL, utc(2026, 1, 15), utc(2026, 5, 3), utc(2026, 4, 1), utc(2026, 7, 1)),
    (Interval.YEARLY, CAL, utc(2026, 1, 15), utc(2026, 12, 31, 23), utc(2026, 1, 1), utc(2027, 1, 1)),
    (Interval.WEEKLY, CAL, utc(2026, 1, 15), utc(2026, 11, 26), utc(2026, 11, 23), utc(2026, 11, 30)),  # Monday
    # anniversary on the 31st: Feb has no 31st, so Feb 28; March is back on the 31st (no drift)
    (Interval.MONTHLY, ANN, utc(2026, 1, 31, 12), utc(2026, 3, 10), utc(2026, 2, 28, 12), utc(2026, 3, 31, 12)),
    (Interval.MONTHLY, ANN, utc(2026, 1, 31, 12), utc(2026, 4, 15), utc(2026, 3, 31, 12), utc(2026, 4, 30, 12)),
    (Interval.QUARTERLY, ANN, utc(2026, 2, 10), utc(2026, 8, 10), utc(2026, 8, 10), utc(2026, 11, 10)),
    (Interval.YEARLY, ANN, utc(2024, 2, 29), utc(2025, 3, 1), utc(2025, 2, 28), utc(2026, 2, 28)),
    (Interval.WEEKLY, ANN, utc(2026, 11, 4, 8), utc(2026, 11, 18, 7), utc(2026, 11, 11, 8), utc(2026, 11, 18, 8)),
])
def test_period_containing(interval, alignment, anchor, t, start, end):
    assert period_containing(interval, alignment, anchor, t) == Period(start, end)


def test_next_period_follows_on_without_a_gap():
    p = period_containing(Interval.MONTHLY, ANN, utc(2026, 1, 31), utc(2026, 1, 31))
    starts = []
    for _ in range(4):
        starts.append(p.start.date().isoformat())
        p = next_period(Interval.MONTHLY, ANN, utc(2026, 1, 31), p)
    assert starts == ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"]


NOV = Period(utc(2026, 11, 1), utc(2026, 12, 1))  # 30 days


@pytest.mark.parametrize("start, end, expected", [
    (NOV.start, NOV.end, Fraction(1)),
    (utc(2026, 11, 16), NOV.end, Fraction(15, 30)),  # started on the 16th: 16th..30th
    (utc(2026, 11, 10, 14), NOV.end, Fraction(21, 30)),  # the start day counts whole: 10th..30th
    (NOV.start, utc(2026, 11, 20, 14), Fraction(19, 30)),  # the stop day does not: 1st..19th
    (utc(2026, 10, 1), utc(2026, 11, 1), Fraction(0)),
])
def test_proration_factor_by_day(start, end, expected):
    assert proration_factor(NOV, start, end) == expected


@pytest.mark.parametrize("fee_minor, days, first, last, rounding, expected", [
    (D(1000), 30, 0, 10, Rounding.HALF_UP, 333),  # 10 EUR x 10/30 = 3.333
    (D(1000), 30, 10, 20, Rounding.HALF_UP, 334),  # round(666.67) - round(333.33) = 667 - 333
    (D(1000), 30, 20, 30, Rounding.HALF_UP, 333),  # 1000 - 667: the three parts sum to 1000
    (D(1000), 30, 0, 10, Rounding.UP, 334),
])
def test_prorated_money_uses_cumulative_rounding(fee_minor, days, first, last, rounding, expected):
    assert prorate_minor(fee_minor, days, first, last, rounding) == expected


def test_pauses_are_cut_out_of_the_active_window():
    windows = active_windows(utc(2026, 11, 1), utc(2026, 12, 1), [(utc(2026, 11, 20), utc(2026, 11, 25)), (utc(2026, 11, 5), utc(2026, 11, 10))])
    assert windows == [(utc(2026, 11, 1), utc(2026, 11, 5)), (utc(2026, 11, 10), utc(2026, 11, 20)), (utc(2026, 11, 25), utc(2026, 12, 1))]


@given(st.lists(st.integers(min_value=0, max_value=31 * 24 * 60), max_size=6), st.integers(min_value=0, max_value=10**9),
       st.sampled_from(list(Rounding)))
def test_prorated_parts_of_a_period_sum_to_the_whole(cut_minutes, fee_minor, rounding):
    period = Period(utc(2026, 1, 1), utc(2026, 2, 1))
    cuts = [period.start] + sorted(period.start + timedelta(minutes=m) for m in cut_minutes) + [period.end]
    parts = list(zip(cuts, cuts[1:]))
    assert sum(proration_factor(period, a, b) for a, b in parts) == 1
    amounts = [prorate_minor(D(fee_minor), period.days, period.day_of(a), period.day_of(b), rounding) for a, b in parts]
    assert sum(amounts) == fee_minor
    for (a, b), amount in zip(parts, amounts):  # each part within one minor unit of its exact share
        assert abs(amount - D(fee_minor) * (period.day_of(b) - period.day_of(a)) / period.days) <= 1


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)), st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
       st.sampled_from(list(Interval)), st.sampled_from(list(Alignment)))
def test_the_period_containing_an_instant_contains_it(anchor, t, interval, alignment):
    anchor, t = anchor.replace(tzinfo=timezone.utc), t.replace(tzinfo=timezone.utc)
    p = period_containing(interval, alignment, anchor, t)
    assert p.start <= t < p.end
    assert next_period(interval, alignment, anchor, p).start == p.end
