"""Billable metrics: how a period's usage events become one quantity (or one per group).

Aggregations: count, sum, max, unique count, latest value, and a time-weighted
sum (value x hours it was held, e.g. GB-hours). An event's value is its
`properties[field]`, or its `quantity` when the metric has no field. Events
are expected to be deduplicated by `event_id` at ingestion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import Enum
from typing import Iterable, Mapping, Sequence

from libs.money import to_decimal
from services.billing_factory.domain.errors import InvalidPlan, InvalidUsage

_ZERO = Decimal(0)
_ONE = Decimal(1)
_MICROS_PER_HOUR = Decimal(3_600_000_000)
_MICRO = timedelta(microseconds=1)


class Aggregation(str, Enum):
    COUNT = "count"
    SUM = "sum"
    MAX = "max"
    UNIQUE_COUNT = "unique_count"
    LATEST = "latest"
    TIME_WEIGHTED_SUM = "time_weighted_sum"

    @property
    def additive(self) -> bool:
        """Whether the quantity of a whole equals the sum over its parts (so usage may be split by time)."""
        return self in (Aggregation.COUNT, Aggregation.SUM, Aggregation.TIME_WEIGHTED_SUM)


@dataclass(frozen=True, slots=True)
class BillableMetric:
    code: str
    aggregation: Aggregation
    field: str | None = None
    decimals: int | None = None  # the aggregate is rounded half up to this many places
    group_by: str | None = None  # an event property: one quantity per value

    def validate(self) -> None:
        if not isinstance(self.aggregation, Aggregation):
            raise InvalidPlan("aggregation", f"unknown aggregation {self.aggregation!r}")
        if self.aggregation is Aggregation.UNIQUE_COUNT and not self.field:
            raise InvalidPlan("field", "a unique count needs the property whose values are counted")
        if self.decimals is not None and not (isinstance(self.decimals, int) and 0 <= self.decimals <= 12):
            raise InvalidPlan("decimals", "must be an integer from 0 to 12")


@dataclass(frozen=True, slots=True)
class UsageEvent:
    event_id: str
    metric_code: str
    timestamp: datetime
    properties: Mapping[str, object] = field(default_factory=dict)
    quantity: Decimal = _ONE


def _trusted_event():
    """Build UsageEvents from stored, already validated rows without the frozen __init__'s per-field setattr.

    A billing run turns every stored usage row into an event; the result equals
    `UsageEvent(...)` (a unit test checks it).
    """
    new = object.__new__
    s1, s2, s3, s4, s5 = (getattr(UsageEvent, name).__set__ for name in UsageEvent.__dataclass_fields__)

    def make_event(event_id: str, metric_code: str, timestamp: datetime, properties: Mapping[str, object], quantity: Decimal = _ONE) -> UsageEvent:
        e = new(UsageEvent)
        s1(e, event_id), s2(e, metric_code), s3(e, timestamp), s4(e, properties), s5(e, quantity)
        return e

    return make_event


make_event = _trusted_event()


def parse_number(raw: object) -> Decimal | None:
    """A stored property as a finite Decimal, or None when it is none (rating then refuses it, naming the event)."""
    if type(raw) is str:
        try:
            value = Decimal(raw)
        except InvalidOperation:
            return None
        return value if value.is_finite() else None
    try:
        return to_decimal(raw)
    except (TypeError, ValueError):
        return None


def event_value(metric: BillableMetric, event: UsageEvent) -> Decimal | None:
    """The event's number for this metric; None when the property is absent."""
    if metric.field is None:
        return event.quantity
    raw = event.properties.get(metric.field)
    if raw is None:
        return None
    if type(raw) is Decimal:
        return raw
    try:
        return to_decimal(raw)
    except (TypeError, ValueError):
        raise InvalidUsage(event.event_id, f"properties.{metric.field}", f"not a decimal number: {raw!r}") from None


def aggregate(metric: BillableMetric, events: Sequence[UsageEvent], start: datetime, end: datetime) -> Decimal:
    """The metric's quantity over [start, end). Earlier events only set a time-weighted sum's opening value."""
    agg = metric.aggregation
    if agg is Aggregation.TIME_WEIGHTED_SUM:
        result = _time_weighted(metric, events, start, end)
    elif agg is Aggregation.COUNT:
        result = Decimal(sum(1 for e in events if start <= e.timestamp < end))
    elif agg is Aggregation.UNIQUE_COUNT:
        result = Decimal(len({str(e.properties[metric.field]) for e in events
                              if start <= e.timestamp < end and e.properties.get(metric.field) is not None}))
    elif agg is Aggregation.LATEST:
        inside = [e for e in events if start <= e.timestamp < end]
        result = _ZERO
        for e in sorted(inside, key=lambda e: (e.timestamp, e.event_id), reverse=True):
            value = event_value(metric, e)
            if value is not None:
                result = value
                break
    else:
        values = [v for e in events if start <= e.timestamp < end and (v := event_value(metric, e)) is not None]
        if agg is Aggregation.SUM:
            result = sum(values, _ZERO)
        else:
            result = max(values, default=_ZERO)
    if metric.decimals is not None:
        result = result.quantize(QUANTUM[metric.decimals], rounding=ROUND_HALF_UP)
    return result


QUANTUM = tuple(Decimal(1).scaleb(-places) for places in range(13))  # decimals are validated to 0..12


def _time_weighted(metric: BillableMetric, events: Sequence[UsageEvent], start: datetime, end: datetime) -> Decimal:
    """Sum of value x hours held, a value being held until the next event (or the end)."""
    held, cursor, micros_total = _ZERO, start, _ZERO
    for e in sorted(events, key=lambda e: (e.timestamp, e.event_id)):
        if e.timestamp >= end:
            break
        value = event_value(metric, e)
        if value is None:
            continue
        if e.timestamp > cursor:
            micros_total += held * ((e.timestamp - cursor) // _MICRO)
            cursor = e.timestamp
        held = value
    if end > cursor:
        micros_total += held * ((end - cursor) // _MICRO)
    return micros_total / _MICROS_PER_HOUR


def group_events(metric: BillableMetric, events: Iterable[UsageEvent]) -> dict[str, list[UsageEvent]]:
    """Events partitioned by the metric's group property; a missing property is the group ''."""
    groups: dict[str, list[UsageEvent]] = {}
    key = metric.group_by
    for e in events:
        value = e.properties.get(key) if key else None
        groups.setdefault("" if value is None else str(value), []).append(e)
    return groups


def aggregate_groups(metric: BillableMetric, events: Sequence[UsageEvent], start: datetime, end: datetime) -> dict[str, Decimal]:
    """One quantity per group value, in sorted group order; groups that come to zero are left out."""
    out = {}
    for key, evs in sorted(group_events(metric, events).items()):
        quantity = aggregate(metric, evs, start, end)
        if quantity:
            out[key] = quantity
    return out
