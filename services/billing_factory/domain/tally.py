"""One pass over a period's stored usage rows: per metric and group, what rating prices (the fast path of `rate`).

Rating from events (`rate` with a list of `UsageEvent`) builds an event per
usage row and metric, then filters and aggregates them charge by charge. A
billing run rates thousands of periods of the same plan, so for plans whose
usage can be counted in one pass this module does that instead: it reads the
rows once, never builds an event, and keeps per metric code and group value
only what pricing reads (the aggregate, and for percentage prices each
transaction's amount). `rate` prices a `Tallies` exactly as it prices the
events the rows stand for; a property test compares both on generated plans
and usage.

What cannot be tallied is left to the event path, which gives the same
result or raises the same error: latest-value and time-weighted metrics
(order matters), parameter info lines (they list values), a price change
inside the usage window (usage is split by time), a metric grouped by its own
value property, and any row whose value does not parse (rating refuses it
naming the event). `tally` answers None then, and `rate` raises `NeedsEvents`.

A row is a mapping with `metric` (the stored metric code), `timestamp` and
`properties`, as the billing factory stores usage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable, Mapping

from services.billing_factory.domain.charges import Percentage
from services.billing_factory.domain.metrics import QUANTUM, Aggregation, BillableMetric, parse_number
from services.billing_factory.domain.plans import Plan
from services.billing_factory.domain.versions import Segment

_ZERO = Decimal(0)
_ONE = Decimal(1)
_COUNT, _SUM, _MAX, _UNIQUE = Aggregation.COUNT, Aggregation.SUM, Aggregation.MAX, Aggregation.UNIQUE_COUNT
TALLIED = frozenset((_COUNT, _SUM, _MAX, _UNIQUE))


class NeedsEvents(Exception):
    """These tallies cannot price a charge of the plan; rate the period from its events instead."""


# What a source adds to its group's first slot, by the metric's aggregation; NONE: only amounts are read
_NONE, _COUNTS, _SUMS, _MAXES, _UNIQUES = range(5)
_KIND = {_COUNT: _COUNTS, _SUM: _SUMS, _MAX: _MAXES, _UNIQUE: _UNIQUES}
_FIRST = (None, 0, _ZERO, None)  # the empty aggregate per kind (a unique count starts from its own set)
_NO_PROPERTIES: Mapping[str, object] = {}

# One domain metric fed by a stored metric's rows: (metric code, kind, value property, group property, amount properties)
Source = tuple[str, int, "str | None", "str | None", tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class TallyPlan:
    """A plan's usage as one pass reads it: stored metric code -> the domain metrics fed by its rows."""

    plan: Plan
    sources: Mapping[str, tuple[Source, ...]]
    codes: tuple[str, ...]
    amount_index: Mapping[tuple[str, str], int]  # (metric code, amount field) -> slot of that field's amounts


@dataclass(frozen=True, slots=True)
class Tallies:
    """Usage over [start, end) per metric code and group value: the aggregate, then each amount field's amounts.

    A group exists once any row of its metric names it, inside the window or not, as with events.
    """

    plan: TallyPlan
    start: datetime
    end: datetime
    slots: Mapping[str, Mapping[str, list]]

    def parts(self, segment: Segment, metric: BillableMetric) -> list[tuple[str, list[tuple[Segment, object]], tuple]]:
        """Per group in group order: (group, [(segment, quantity)], no events), or the amounts for a percentage
        price; the shape usage rating prices (`usage.rate_usage_charge`), built here in one step."""
        groups = self.slots.get(metric.code) or _NO_GROUP
        items = sorted(groups.items()) if len(groups) > 1 else groups.items()
        if type(segment.price) is Percentage:
            at = self.plan.amount_index[(metric.code, segment.price.amount_field)]
            return [(key, [(segment, slot[at] if slot is not None else [])], ()) for key, slot in items]
        aggregation, decimals = metric.aggregation, metric.decimals
        out = []
        for key, slot in items:
            quantity = _ZERO if slot is None else slot[0]
            if aggregation is _COUNT:
                quantity = Decimal(quantity)
            elif aggregation is _UNIQUE:
                quantity = Decimal(len(quantity)) if slot is not None else _ZERO
            elif quantity is None:  # a maximum over no values
                quantity = _ZERO
            if decimals is not None:
                quantity = quantity.quantize(QUANTUM[decimals], rounding=ROUND_HALF_UP)
            out.append((key, [(segment, quantity)], ()))
        return out


_NO_GROUP: Mapping[str, None] = {"": None}  # a metric no row named: one group without usage


def tally_plan(plan: Plan) -> TallyPlan | None:
    """How `tally` reads usage for this plan, or None when its usage must be rated from events. Cached per plan."""
    cached = _PLANS.get(id(plan))
    if cached is not None and cached[0] is plan:
        return cached[1]
    compiled = _compile(plan)
    if len(_PLANS) > 1000:
        _PLANS.clear()
    _PLANS[id(plan)] = (plan, compiled)
    return compiled


_PLANS: dict[int, tuple[Plan, TallyPlan | None]] = {}


def _compile(plan: Plan) -> TallyPlan | None:
    quantity: set[str] = set()
    amounts: dict[str, list[str]] = {}
    for charge in plan.charges:
        if charge.metric is None:
            continue
        metric = plan.metric_index[charge.metric]
        if charge.parameter is not None or metric.aggregation not in TALLIED or (metric.group_by and metric.group_by == metric.field):
            return None
        for price in (charge.price, *(v.price for v in charge.versions)):
            if type(price) is Percentage:
                fields = amounts.setdefault(metric.code, [])
                if price.amount_field not in fields:
                    fields.append(price.amount_field)
            else:
                quantity.add(metric.code)
    sources: dict[str, list[Source]] = {}
    index: dict[tuple[str, str], int] = {}
    for code, metric in plan.metric_index.items():
        fields = tuple(amounts.get(code, ()))
        index.update(((code, f), 1 + i) for i, f in enumerate(fields))
        kind = _KIND[metric.aggregation] if code in quantity else _NONE
        sources.setdefault(code.split("#", 1)[0], []).append((code, kind, metric.field, metric.group_by or None, fields))
    return TallyPlan(plan, {k: tuple(v) for k, v in sources.items()}, tuple(plan.metric_index), index)


# Stored property text -> its number (or None: does not parse); parsing is pure, so every period may share it.
_PARSED: dict[str, Decimal | None] = {}


def tally(compiled: TallyPlan, rows: Iterable[Mapping[str, Any]], start: datetime, end: datetime) -> Tallies | None:
    """The rows' usage over [start, end); None when a value inside it does not parse (the event path refuses it).

    One loop without calls per row: it is most of a billing run's rating time. A text is parsed once per process
    (`_PARSED`), as the periods of a run repeat the same few quantities ("1", "2") over and over.
    """
    by_source = compiled.sources
    slots: dict[str, dict[str, list]] = {code: {} for code in compiled.codes}
    parsed = _PARSED
    if len(parsed) > 65536:
        parsed.clear()
    parse, first = parse_number, _FIRST
    for r in rows:
        sources = by_source.get(r["metric"])
        if sources is None:
            continue
        props = r.get("properties") or _NO_PROPERTIES
        inside = start <= r["timestamp"] < end
        for code, kind, field, group_by, amount_fields in sources:
            groups = slots[code]
            if group_by is None:
                key = ""
            else:
                key = props.get(group_by)
                key = "" if key is None else str(key)
            slot = groups.get(key)
            if slot is None:
                slot = groups[key] = [set() if kind == _UNIQUES else first[kind]]
                if amount_fields:
                    slot += [[] for _ in amount_fields]
            if not inside:
                continue
            if kind == _COUNTS:
                slot[0] += 1
            elif kind:
                raw = _ONE if field is None else props.get(field)
                if raw is not None:
                    if type(raw) is str:
                        value = parsed.get(raw)
                        if value is None:
                            value = parsed[raw] = parse(raw)
                    else:
                        value = raw if type(raw) is Decimal and raw.is_finite() else parse(raw)
                    if kind == _UNIQUES:
                        slot[0].add(str(raw if value is None else value))
                    elif value is None:
                        return None
                    elif kind == _SUMS:
                        slot[0] += value
                    elif slot[0] is None or value > slot[0]:
                        slot[0] = value
            if amount_fields:
                i = 0
                for name in amount_fields:
                    i += 1
                    raw = props.get(name)
                    if type(raw) is str:
                        value = parsed.get(raw)
                        if value is None:
                            value = parsed[raw] = parse(raw)
                    else:
                        value = None if raw is None else raw if type(raw) is Decimal and raw.is_finite() else parse(raw)
                    if value is None:
                        return None
                    slot[i].append(value)
    return Tallies(compiled, start, end, slots)
