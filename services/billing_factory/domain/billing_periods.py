"""Billing periods: weekly, monthly, quarterly or yearly, aligned to the calendar or the subscription's start.

Times are UTC instants; a period is [start, end). Proration is by day: the
share of the period's days the subscription was active, so the prorated
parts of a period always add up to the whole period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

UNITS = {"week": 0, "month": 1, "quarter": 3, "year": 12}


@dataclass(frozen=True)
class Interval:
    unit: str  # week | month | quarter | year
    alignment: str = "calendar"  # calendar | anniversary

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unknown interval {self.unit!r}")
        if self.alignment not in ("calendar", "anniversary"):
            raise ValueError(f"unknown alignment {self.alignment!r}")


def _add_months(t: datetime, months: int) -> datetime:
    y, m = divmod(t.month - 1 + months, 12)
    year, month = t.year + y, m + 1
    days_in_month = [31, 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    return t.replace(year=year, month=month, day=min(t.day, days_in_month))


def _step(interval: Interval, start: datetime, n: int = 1) -> datetime:
    if interval.unit == "week":
        return start + timedelta(weeks=n)
    return _add_months(start, UNITS[interval.unit] * n)


def _calendar_start(interval: Interval, t: datetime) -> datetime:
    midnight = t.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval.unit == "week":
        return midnight - timedelta(days=t.weekday())
    if interval.unit == "month":
        return midnight.replace(day=1)
    if interval.unit == "quarter":
        return midnight.replace(month=3 * ((t.month - 1) // 3) + 1, day=1)
    return midnight.replace(month=1, day=1)


def first_period_start(interval: Interval, started_at: datetime) -> datetime:
    return _calendar_start(interval, started_at) if interval.alignment == "calendar" else started_at


def period_containing(interval: Interval, started_at: datetime, t: datetime) -> tuple[datetime, datetime]:
    anchor = first_period_start(interval, started_at)
    n = 0
    start = anchor
    while True:
        end = _step(interval, anchor, n + 1)  # step from the anchor, so the 31st does not drift to the 28th
        if t < end or end <= start:
            return start, end
        n += 1
        start = end


def periods_between(interval: Interval, started_at: datetime, stop: datetime) -> list[tuple[datetime, datetime]]:
    """Every period that begins before `stop`, from the subscription's first one."""
    anchor = first_period_start(interval, started_at)
    out, n = [], 0
    start = anchor
    while start < stop:
        end = _step(interval, anchor, n + 1)
        out.append((start, end))
        start, n = end, n + 1
    return out


def proration(interval: Interval, start: datetime, end: datetime, started_at: datetime, ends_at: datetime | None) -> Decimal:
    """Active days / days in the period; a day on which the subscription was active counts whole."""
    total_days = (end.date() - start.date()).days
    active_from = max(start, started_at).date()
    active_to = (min(end, ends_at) if ends_at else end)
    active_to_date = active_to.date() if active_to == end or active_to.time() == datetime.min.time() else active_to.date() + timedelta(days=1)
    active = max(0, (min(active_to_date, end.date()) - active_from).days)
    return Decimal(active) / Decimal(total_days) if total_days else Decimal(0)
