"""Rating one usage charge: quantities per group and price segment, free units, cap and minimum.

Each group value of the metric is priced on its own (its own tiers and free
units); the cap and the minimum apply to the charge as a whole. Additive
aggregations (count, sum, time-weighted sum) are split by timestamp where
the price changes; the others (max, unique count, latest) cannot be split,
so their whole-period quantity is priced at the price valid at the end.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Mapping, Sequence

from libs.money import to_decimal
from services.billing_factory.domain.charges import Charge, Graduated, Package, Percentage, PerUnit, UsagePrice, Volume
from services.billing_factory.domain.errors import InvalidUsage, UsageNotRateable
from services.billing_factory.domain.lines import LineKind, fmt
from services.billing_factory.domain.metrics import BillableMetric, UsageEvent, aggregate, group_events
from services.billing_factory.domain.pricing import percentage_steps, usage_steps
from services.billing_factory.domain.tally import NeedsEvents, Tallies
from services.billing_factory.domain.versions import Segment, price_segments

if TYPE_CHECKING:
    from services.billing_factory.domain.rating import Rater

_ZERO = Decimal(0)
_ONE = Decimal(1)


def rate_usage_charge(r: Rater, charge: Charge, metric: BillableMetric, by_metric: dict[str, list[UsageEvent]] | None,
                      usage: object) -> None:
    u_end = r.end if r.now >= r.end else r.now
    segments = r.segments(charge, r.start, u_end)
    first_line = len(r.lines)
    if segments:
        if type(usage) is Tallies:
            groups = _from_tallies(charge, metric, segments, usage)
        elif by_metric is None:
            groups = _from_totals(charge, segments, usage)
        else:
            groups = _from_events(r.memo, charge, metric, segments, by_metric.get(metric.code, ()), r.start, u_end)
        labelled = metric.group_by is not None and any(key for key, _, _ in groups)
        for key, parts, events in groups:
            name = f"{charge.name} ({metric.group_by}: {key or '–'})" if labelled else charge.name
            _price_group(r, charge, name, key if labelled else None, parts, events)
    if charge.maximum is None and charge.minimum is None:
        return
    subtotal = sum(line.amount.minor for line in r.lines[first_line:])
    if charge.maximum is not None:
        cap = r.prorated(charge.maximum, r.start, r.end)
        if subtotal > cap:
            reduction = cap - subtotal
            amount = Decimal(reduction) / r.scale
            r.emit(charge, LineKind.CAP, f"{charge.name} – {r.labels.cap} {fmt(Decimal(cap) / r.scale)}", _ONE, amount, reduction, r.start, r.end)
            subtotal = cap
    if charge.minimum is not None and r.closed:
        minimum = r.prorated(charge.minimum, r.start, r.end)
        if subtotal < minimum:
            true_up = minimum - subtotal
            r.emit(charge, LineKind.MINIMUM_TRUE_UP, f"{charge.name} – {r.labels.minimum} {fmt(Decimal(minimum) / r.scale)}",
                   _ONE, Decimal(true_up) / r.scale, true_up, r.start, r.end)


Part = tuple[Segment, object]  # a segment and its quantity, or its transaction amounts for a percentage price


def _from_events(memo: dict, charge: Charge, metric: BillableMetric, segments: list[Segment], events: Sequence[UsageEvent],
                 start, end):
    """Quantities per group and segment; several charges on one metric share the work through `memo`."""
    grouped = memo.get(metric.code)
    if grouped is None:
        grouped = memo[metric.code] = group_events(metric, events) if metric.group_by and events else {"": events}
    if len(segments) > 1 and not metric.aggregation.additive and type(charge.price) is not Percentage:
        segments = [Segment(start, end, segments[-1].price)]
    out = []
    for key in sorted(grouped):
        evs = grouped[key]
        if type(charge.price) is Percentage:
            parts = [(s, _amounts(s, evs)) for s in segments]
        else:
            parts = []
            for s in segments:
                k = (metric.code, key, s.start, s.end)
                quantity = memo.get(k)
                if quantity is None:
                    quantity = memo[k] = aggregate(metric, evs, s.start, s.end)
                parts.append((s, quantity))
        out.append((key, parts, evs))
    return out


def _amounts(segment: Segment, events: Sequence[UsageEvent]) -> list[Decimal]:
    name = segment.price.amount_field
    out = []
    for e in events:
        if segment.start <= e.timestamp < segment.end:
            raw = e.properties.get(name)
            if raw is None:
                raise InvalidUsage(e.event_id, f"properties.{name}", "a percentage price needs the transaction amount")
            try:
                out.append(raw if type(raw) is Decimal else to_decimal(raw))
            except (TypeError, ValueError):
                raise InvalidUsage(e.event_id, f"properties.{name}", f"not a decimal number: {raw!r}") from None
    return out


def _from_tallies(charge: Charge, metric: BillableMetric, segments: list[Segment], tallies: Tallies):
    """Quantities (or amounts) per group counted in one pass over the rows; one price over the whole usage window only."""
    seg = segments[0]
    if len(segments) > 1 or seg.start != tallies.start or seg.end != tallies.end or type(seg.price) is not type(charge.price):
        raise NeedsEvents(charge.code)
    return tallies.parts(seg, metric)


def _from_totals(charge: Charge, segments: list[Segment], usage: Mapping):
    if type(charge.price) is Percentage:
        raise UsageNotRateable(charge.code, "a percentage price needs each transaction's event, not totals")
    if len(segments) > 1:
        raise UsageNotRateable(charge.code, "the price changes inside the period: totals cannot be split by time")
    value = usage.get(charge.metric, _ZERO)
    if type(value) is Decimal:
        return [("", [(segments[0], value)], ())]
    totals = value if isinstance(value, Mapping) else {"": value}
    return [(key, [(segments[0], to_decimal(totals[key]))], ()) for key in sorted(totals)]


def _price_group(r: Rater, charge: Charge, name: str, key: str | None, parts: list[Part], events: Sequence[UsageEvent]) -> None:
    emitted = len(r.lines)
    labels = r.labels
    if type(charge.price) is Percentage:
        for seg, amounts in parts:
            for kind, label, quantity, unit in percentage_steps(seg.price, amounts, labels):
                r.emit(charge, kind, f"{name} – {label}", quantity, unit, r.minor(quantity * unit), seg.start, seg.end, key)
    else:
        total = parts[0][1] if len(parts) == 1 else sum((q for _, q in parts), _ZERO)
        free = _ZERO if not charge.free_units else charge.free_units if charge.free_units < total else total
        billable_total, left, before = total - free, free, _ZERO
        for seg, quantity in parts:
            if left:
                used = left if left < quantity else quantity
                left -= used
                billable = quantity - used
            else:
                billable = quantity
            for kind, label, q, unit in usage_steps(seg.price, billable, before, billable_total, labels):
                r.emit(charge, kind, f"{name} – {label}" if label else name, q, unit, r.minor(q * unit), seg.start, seg.end, key)
            before += billable
        if free:
            r.emit(charge, LineKind.PARAMETER_INFO, f"{name} – {labels.free_units}", free, _ZERO, 0, r.start, r.end, key)
    if len(r.lines) == emitted:
        seg = parts[-1][0]
        r.emit(charge, LineKind.USAGE, name, _ZERO, _display_unit(seg.price), 0, seg.start, seg.end, key)
    if charge.parameter is not None:
        _parameter_line(r, charge, name, key, events)


def _display_unit(price: UsagePrice) -> Decimal:
    if type(price) is PerUnit:
        return price.unit_price
    if type(price) is Graduated or type(price) is Volume:
        return price.tiers[0].unit_price
    if type(price) is Package:
        return price.price
    return _ZERO


def _parameter_line(r: Rater, charge: Charge, name: str, key: str | None, events: Sequence[UsageEvent]) -> None:
    param = charge.parameter
    label = param.label or param.property
    end = r.end if r.now >= r.end else r.now
    values = [e.properties[param.property] for e in events
              if r.start <= e.timestamp < end and e.properties.get(param.property) is not None]
    if param.mode == "sum":
        try:
            quantity = sum((v if type(v) is Decimal else to_decimal(v) for v in values), _ZERO)
        except (TypeError, ValueError):
            bad = next(e for e in events if not _is_number(e.properties.get(param.property)))
            raise InvalidUsage(bad.event_id, f"properties.{param.property}", "a summed parameter must be a number") from None
        info = f"{r.labels.total_of} {label}: {fmt(quantity)}"
    else:
        distinct = sorted({str(v) for v in values})
        quantity = Decimal(len(distinct))
        info = f"{label}: {', '.join(distinct)}"
    r.emit(charge, LineKind.PARAMETER_INFO, f"{name} – {info}", quantity, _ZERO, 0, r.start, r.end, key, info)


def _is_number(value: object) -> bool:
    try:
        value is None or to_decimal(value)
    except (TypeError, ValueError):
        return False
    return True
