"""Billing periods and proration by day.

A period is [start, end). Calendar alignment starts periods at midnight on
the 1st of the month / quarter / year or on Monday; anniversary alignment
steps from the subscription's start instant, always from that anchor so the
31st does not drift to the 28th. Use UTC datetimes: days are counted as
whole 24-hour steps from the period start.

Proration is by day. A change (start, stop, pause, plan change) takes effect
from the start of the day it happens in, so every instant maps to exactly one
day boundary; the parts of a period therefore partition its days and their
factors sum to exactly 1. Money for a part uses cumulative rounding, so the
parts of a fee also sum exactly to the whole fee.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from typing import Sequence

from libs.money import Rounding

_MONTHS_IN = {"weekly": 0, "monthly": 1, "quarterly": 3, "yearly": 12}
_WEEK = timedelta(weeks=1)
_ONE = Decimal(1)


class Interval(str, Enum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


class Alignment(str, Enum):
    CALENDAR = "calendar"
    ANNIVERSARY = "anniversary"


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if not self.end > self.start:
            raise ValueError("a period must end after it starts")

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def day_of(self, t: datetime) -> int:
        """The day boundary an instant falls back to, clamped to the period: 0 .. days."""
        if t <= self.start:
            return 0
        if t >= self.end:
            return self.days
        return (t - self.start).days


def _add_months(t: datetime, months: int) -> datetime:
    y, m = divmod(t.month - 1 + months, 12)
    year, month = t.year + y, m + 1
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    last = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]
    return t.replace(year=year, month=month, day=min(t.day, last))


def _step(interval: Interval, anchor: datetime, n: int) -> datetime:
    months = _MONTHS_IN[interval.value]
    return anchor + n * _WEEK if months == 0 else _add_months(anchor, months * n)


def _calendar_start(interval: Interval, t: datetime) -> datetime:
    midnight = t.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval is Interval.WEEKLY:
        return midnight - timedelta(days=t.weekday())
    if interval is Interval.MONTHLY:
        return midnight.replace(day=1)
    if interval is Interval.QUARTERLY:
        return midnight.replace(month=3 * ((t.month - 1) // 3) + 1, day=1)
    return midnight.replace(month=1, day=1)


def period_containing(interval: Interval, alignment: Alignment, anchor: datetime, t: datetime) -> Period:
    """The billing period that contains instant t; `anchor` is the subscription's start."""
    if alignment is Alignment.CALENDAR:
        start = _calendar_start(interval, t)
        return Period(start, _step(interval, start, 1))
    months = _MONTHS_IN[interval.value]
    if months == 0:
        n = (t - anchor) // _WEEK
    else:
        n = ((t.year - anchor.year) * 12 + t.month - anchor.month) // months
        while _step(interval, anchor, n) > t:
            n -= 1
        while _step(interval, anchor, n + 1) <= t:
            n += 1
    return Period(_step(interval, anchor, n), _step(interval, anchor, n + 1))


def next_period(interval: Interval, alignment: Alignment, anchor: datetime, period: Period) -> Period:
    return period_containing(interval, alignment, anchor, period.end)


def proration_factor(period: Period, start: datetime, end: datetime) -> Fraction:
    """Share of the period's days in [start, end): whole days, by the day each instant falls in."""
    return Fraction(max(0, period.day_of(end) - period.day_of(start)), period.days)


def prorate_minor(full_minor: Decimal, total_days: int, from_day: int, to_day: int, rounding: Rounding) -> int:
    """Minor units of a fee for days [from_day, to_day) of a period of total_days.

    Cumulative rounding: round(fee x to/total) - round(fee x from/total). Adjacent
    parts telescope, so parts of a period always sum exactly to the whole fee.
    """
    mode = rounding.decimal_mode
    upper = int((full_minor * to_day / total_days).quantize(_ONE, rounding=mode))
    lower = int((full_minor * from_day / total_days).quantize(_ONE, rounding=mode)) if from_day else 0
    return upper - lower


def active_windows(start: datetime, end: datetime, pauses: Sequence[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """[start, end) without the pause windows, in time order."""
    windows = [(start, end)] if end > start else []
    for p_start, p_end in sorted(pauses):
        kept = []
        for w_start, w_end in windows:
            if p_end <= w_start or p_start >= w_end:
                kept.append((w_start, w_end))
                continue
            if p_start > w_start:
                kept.append((w_start, p_start))
            if p_end < w_end:
                kept.append((p_end, w_end))
        windows = kept
    return windows
