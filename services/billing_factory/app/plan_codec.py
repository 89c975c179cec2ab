"""From a stored plan definition (the API's JSON) to the domain's frozen Plan, and its lines to DraftLines.

This is the seam between the catalog as stored and the rating domain: it
decodes a definition for one currency (a plan may price its charges in
several; a subscription picks one), translates the domain's field paths back
to the API's names so a problem names what the caller sent, and turns
domain `Line`s into the `DraftLine` contract the invoice factory reads.
Billing runs and previews both rate through `rate_period`, so they agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Sequence

from pydantic import BaseModel

from libs.contracts.events import DraftLine
from libs.money import Rounding
from services.billing_factory.app.errors import Invalid
from services.billing_factory.domain import (
    Aggregation, Alignment, BillableMetric, Bundle, Charge, Credit, Discount, FlatFee, Graduated, Interval, InvalidField,
    Line, OneTime, OneTimeItem, Package, ParameterInfo, Percentage, PerUnit, Period, Plan, PriceVersion, SubscriptionPeriod,
    Tier, UsageEvent, Volume, next_period, period_containing, rate,
)
from services.billing_factory.domain.metrics import make_event, parse_number
from services.billing_factory.domain.rating import usage_window
from services.billing_factory.domain.tally import NeedsEvents, Tallies, tally, tally_plan

_ONE = Decimal(1)
_ZERO = Decimal(0)
INTERVALS = {"week": Interval.WEEKLY, "month": Interval.MONTHLY, "quarter": Interval.QUARTERLY, "year": Interval.YEARLY}
PRICE_FIELDS = ("amount", "unit_price", "tiers", "package_size", "package_price", "percentage", "fixed_fee",
                "min_per_transaction", "max_per_transaction", "components")
# domain field name -> API field name, for problems that name what the caller sent
_API_NAMES = {"price.size": "package_size", "price.price": "package_price", "price.rate": "percentage",
              "price.min_fee": "min_per_transaction", "price.max_fee": "max_per_transaction", "minimum": "minimum_amount",
              "maximum": "maximum_amount"}


def _dec(field: str, value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        out = Decimal(str(value))
    except InvalidOperation:
        raise Invalid(field, f"not a decimal number: {value!r}") from None
    if not out.is_finite():
        raise Invalid(field, "must be a finite number")
    return out


def _api_field(path: str) -> str:
    """`charges[2].price.tiers[1].up_to` -> `charges[2].tiers[1].up_to`, `...price.size` -> `...package_size`."""
    for domain, api in _API_NAMES.items():
        path = re.sub(rf"(^|\.){re.escape(domain)}$", rf"\g<1>{api}", path)
    return path.replace(".price.", ".").replace(".price", "")


def _tiers(field: str, raw: list[dict] | None) -> tuple[Tier, ...]:
    return tuple(Tier(_dec(f"{field}[{i}].up_to", t.get("up_to")), _dec(f"{field}[{i}].unit_price", t.get("unit_price")),
                      _dec(f"{field}[{i}].flat_fee", t.get("flat_fee")) or Decimal(0)) for i, t in enumerate(raw or []))


def _price(prefix: str, model: str, c: dict[str, Any], default_in_advance: bool | None):
    d = lambda name: _dec(f"{prefix}{name}", c.get(name))  # noqa: E731
    if model == "flat_fee":
        return FlatFee(d("amount"), default_in_advance)
    if model == "bundle":
        return Bundle(d("amount"), tuple(c.get("components") or ()), default_in_advance)
    if model == "one_time":
        return OneTime(d("amount"), d("quantity") or Decimal(1))
    if model == "per_unit":
        return PerUnit(d("unit_price"))
    if model in ("graduated", "volume"):
        return (Graduated if model == "graduated" else Volume)(_tiers(f"{prefix}tiers", c.get("tiers")))
    if model == "package":
        return Package(d("package_size"), d("package_price"))
    if model == "percentage":
        return Percentage(d("percentage"), c.get("amount_field") or "", d("fixed_fee") or Decimal(0),
                          d("min_per_transaction"), d("max_per_transaction"))
    raise Invalid(f"{prefix}model", f"unknown price model {model!r}")


def _in_currency(c: dict[str, Any], currency: str, base: str, field: str) -> dict[str, Any]:
    """The charge's price fields for `currency`: its own for the base currency, else from `prices[currency]`."""
    if currency == base:
        return c
    prices = (c.get("prices") or {}).get(currency)
    if prices is None:
        raise Invalid(f"{field}.prices.{currency}", f"the charge has no price in {currency}")
    return {**{k: v for k, v in c.items() if k not in PRICE_FIELDS}, **prices}


def _charge(i: int, raw: dict[str, Any], currency: str, base: str, metric_alias: dict[tuple[str, str], str]) -> Charge:
    field = f"charges[{i}]"
    c = _in_currency(raw, currency, base, field)
    model = c["model"]
    in_advance = None if model not in ("flat_fee", "bundle") else c.get("billing", "in_advance") == "in_advance"
    versions = []
    for j, v in enumerate(c.get("versions") or []):
        vc = _in_currency({**v, "model": model}, currency, base, f"{field}.versions[{j}]")
        versions.append(PriceVersion(_when(f"{field}.versions[{j}].valid_from", v.get("valid_from")),
                                     _when(f"{field}.versions[{j}].valid_until", v.get("valid_until")),
                                     _price(f"{field}.versions[{j}].", model, vc, in_advance)))
    category = c.get("tax_category", "S")
    tax_rate = _dec(f"{field}.tax_rate", c.get("tax_rate")) if c.get("tax_rate") is not None else Decimal(19)
    metric = c.get("metric")
    if metric and c.get("group_by"):
        metric = metric_alias[(metric, c["group_by"])]
    parameter = c.get("parameter")
    return Charge(
        code=c["code"], name=c["name"], price=_price(f"{field}.", model, c, in_advance), metric=metric, product=c.get("product"),
        versions=tuple(versions), free_units=_dec(f"{field}.free_units", c.get("free_units")) or Decimal(0),
        minimum=_dec(f"{field}.minimum_amount", c.get("minimum_amount")), maximum=_dec(f"{field}.maximum_amount", c.get("maximum_amount")),
        tax_category=category, tax_rate=tax_rate if category == "S" else Decimal(0), unit_code=c.get("unit_code", "C62"),
        parameter=ParameterInfo(parameter["property"], parameter.get("mode", "value"), parameter.get("label")) if parameter else None,
    )


def _when(field: str, value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        out = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(field, f"not an ISO 8601 date-time: {value!r}") from None
    if out.tzinfo is None:
        raise Invalid(field, "needs a time zone")
    return out


def _metric(code: str, m: dict[str, Any], group_by: str | None) -> BillableMetric:
    return BillableMetric(code, Aggregation(m["aggregation"]), m.get("field"), m.get("decimals"), group_by)


def currencies(definition: dict[str, Any]) -> list[str]:
    """Every currency the plan can bill in: its own and each one all charges are priced in."""
    extra = set.intersection(*({*(c.get("prices") or {})} for c in definition["charges"])) if definition["charges"] else set()
    return [definition["currency"], *sorted(extra - {definition["currency"]})]


def plan_from_definition(definition: dict[str, Any], metrics: dict[str, dict[str, Any]], currency: str | None = None) -> Plan:
    """The domain Plan for one currency (default: the plan's own); raises Invalid naming the API field."""
    currency = currency or definition["currency"]
    aliases: dict[tuple[str, str], str] = {}
    used: dict[str, BillableMetric] = {}
    for i, c in enumerate(definition["charges"]):
        code = c.get("metric")
        if not code:
            continue
        if code not in metrics:
            raise Invalid(f"charges[{i}].metric", f"unknown metric {code!r}")
        group_by = c.get("group_by")
        if group_by and group_by != metrics[code].get("group_by"):
            alias = aliases.setdefault((code, group_by), f"{code}#{group_by}")
            used[alias] = _metric(alias, metrics[code], group_by)
        else:
            if group_by:
                aliases[(code, group_by)] = code
            used[code] = _metric(code, metrics[code], metrics[code].get("group_by"))
    try:
        charges = tuple(_charge(i, c, currency, definition["currency"], aliases) for i, c in enumerate(definition["charges"]))
        discounts = tuple(_discount(f"discounts[{i}]", d) for i, d in enumerate(definition.get("discounts") or []))
        return Plan(code=definition["code"], name=definition.get("name", definition["code"]), currency=currency,
                    interval=INTERVALS[definition.get("interval", "month")], charges=charges, metrics=tuple(used.values()),
                    alignment=Alignment(definition.get("alignment", "calendar")),
                    pay_in_advance=definition.get("pay_in_advance", True), discounts=discounts,
                    rounding=Rounding(definition.get("rounding", "half_up")))
    except InvalidField as exc:
        raise Invalid(_api_field(exc.field), exc.reason) from None


def _discount(field: str, d: dict[str, Any]) -> Discount:
    return Discount(d["code"], d.get("name") or d["code"], _dec(f"{field}.percentage", d.get("percentage")),
                    _dec(f"{field}.amount", d.get("amount")), d.get("periods"), d.get("first_period_index", 0),
                    frozenset(d.get("charge_codes") or ()))


def coupon_discount(coupon: dict[str, Any], first_period_index: int) -> Discount:
    """A coupon applied to a subscription: a discount counting its periods from the one it was applied in."""
    return Discount(coupon["code"], coupon["name"], _dec("percentage", coupon.get("percentage")), _dec("amount", coupon.get("amount")),
                    coupon.get("periods"), first_period_index, frozenset(coupon.get("charge_codes") or ()))


def events_for(plan: Plan, rows: Iterable[dict[str, Any]]) -> list[UsageEvent]:
    """Stored usage rows as domain events; a metric aliased for a charge's own grouping sees them too.

    The metric's numeric property is parsed to Decimal once here rather than
    by every charge that reads it; a value that does not parse is left as is,
    so rating refuses it with InvalidUsage naming the event.
    """
    by_source = _sources(plan)
    out = []
    append, number, new_event = out.append, parse_number, make_event
    for r in rows:
        targets = by_source.get(r["metric"])
        if not targets:
            continue
        props = r.get("properties") or {}
        event_id, ts = r.get("event_id", ""), r["timestamp"]
        for code, name in targets:
            raw = props.get(name) if name else None
            if raw is not None and type(raw) is not Decimal:
                value = number(raw)
                if value is not None:
                    props = dict(props)
                    props[name] = value
            append(new_event(event_id, code, ts, props))
    return out


def _sources(plan: Plan) -> dict[str, list[tuple[str, str | None]]]:
    """Stored metric code -> (domain metric code, property to parse), cached on the plan's metric index."""
    cached = _SOURCES.get(id(plan))
    if cached is not None and cached[0] is plan:
        return cached[1]
    by_source: dict[str, list[tuple[str, str | None]]] = {}
    for code, metric in plan.metric_index.items():
        by_source.setdefault(code.split("#", 1)[0], []).append((code, metric.field))
    if len(_SOURCES) > 1000:
        _SOURCES.clear()
    _SOURCES[id(plan)] = (plan, by_source)
    return by_source


_SOURCES: dict[int, tuple[Plan, dict]] = {}


@dataclass(frozen=True, slots=True)
class Extras:
    """What the subscription brings to one period besides its usage: pauses, coupons, credits, one-time items."""

    pauses: tuple[tuple[datetime, datetime], ...] = ()
    coupons: tuple[Discount, ...] = ()
    credits: tuple[Credit, ...] = ()
    items: tuple[OneTimeItem, ...] = ()
    period_index: int = 0


NO_EXTRAS = Extras()


def periods(plan: Plan, started_at: datetime, until: datetime) -> list[Period]:
    """The periods from the subscription's start up to (not including) the one starting at `until`."""
    out: list[Period] = []
    p = period_containing(plan.interval, plan.alignment, started_at, started_at)
    while p.start < until:
        out.append(p)
        p = next_period(plan.interval, plan.alignment, started_at, p)
    return out


def billable_periods(plan: Plan, started_at: datetime, ends_at: datetime | None, as_of: datetime) -> list[Period]:
    """Periods that have ended by as_of, and the last partial one of a subscription that ended by then."""
    stop = min(as_of, ends_at) if ends_at else as_of
    return [p for p in periods(plan, started_at, stop)
            if p.end <= as_of or (ends_at is not None and ends_at <= as_of and p.start < ends_at)]


def period_index(plan: Plan, started_at: datetime, period: Period) -> int:
    return len(periods(plan, started_at, period.start))


def open_period(plan: Plan, started_at: datetime, now: datetime) -> Period:
    return period_containing(plan.interval, plan.alignment, started_at, max(now, started_at))


def rate_period(plan: Plan, period: Period, started_at: datetime, ends_at: datetime | None, events: Sequence[UsageEvent] | Tallies,
                now: datetime, extras: Extras = NO_EXTRAS) -> list[DraftLine]:
    """The DraftLines of one period (or the part of it one plan was active), as a billing run bills them."""
    if ends_at is not None and ends_at <= max(started_at, period.start):
        return []
    ctx = SubscriptionPeriod(period, started_at, ends_at, extras.pauses, extras.period_index, extras.coupons, extras.credits, extras.items)
    return drafts(rate(plan, ctx, events, now))


def rate_rows(plan: Plan, period: Period, started_at: datetime, ends_at: datetime | None, rows: Sequence[dict[str, Any]],
              now: datetime, extras: Extras = NO_EXTRAS) -> list[DraftLine]:
    """`rate_period` of stored usage rows: tallied in one pass where the plan allows it, else from their events; the same lines."""
    compiled = tally_plan(plan)
    if compiled is not None:
        tallies = tally(compiled, rows, *usage_window(period, started_at, ends_at, now))
        if tallies is not None:
            try:
                return rate_period(plan, period, started_at, ends_at, tallies, now, extras)
            except NeedsEvents:
                pass
    return rate_period(plan, period, started_at, ends_at, events_for(plan, rows), now, extras)


def draft(line: Line) -> DraftLine:
    """The contract line; a reduction (cap, discount, credit) has a negative quantity, never a negative price (BR-27)."""
    return drafts([line])[0]


def drafts(lines: list[Line]) -> list[DraftLine]:
    """`draft` of each line, in one loop: what a billing run converts for every period it rates.

    Built as pydantic's model_construct builds a model (field dict, fields set, no extras, no private attributes), at a
    fraction of its cost: each line is unpacked once, the model state is set through the slot setters bound once, the
    dates of a window are converted once for the lines that share it, and `_plain` runs only for a quantity that is not
    a whole number without exponent already. A unit test checks the result equals a validated DraftLine.
    """
    set_dict, set_fields, set_extra, set_private = _DRAFT_SETTERS
    new, fields, zero, one = object.__new__, _DRAFT_FIELD_SET, _ZERO, _ONE
    out = []
    window = (None, None, None, None)
    for code, kind, description, _, quantity, unit_price, amount, category, tax_rate, start, end, _, info, unit_code in lines:
        if unit_price < zero:
            quantity, unit_price = -quantity, -unit_price
        if not quantity.same_quantum(one):
            quantity = _plain(quantity)
        if start is not window[0] or end is not window[1]:
            window = (start, end, _day(start), last_day(end))
        line = new(DraftLine)
        set_dict(line, {
            "charge_code": code, "description": description, "kind": kind._value_, "quantity": quantity, "unit_code": unit_code,
            "unit_price": unit_price, "net_minor": amount.minor, "tax_category": category, "tax_rate": tax_rate, "detail": info,
            "period_start": window[2], "period_end": window[3], "shares": [],
        })
        set_fields(line, fields.copy())
        set_extra(line, None)
        set_private(line, None)
        out.append(line)
    return out


@lru_cache(maxsize=4096)
def _day(t: datetime) -> date:
    return t.date()


# The instance state pydantic's model_construct sets on a DraftLine (its field dict, the fields set, no extras, no
# private attributes), set by `drafts` through the setters of that state bound once: cheaper than setattr by name.
_DRAFT_FIELD_SET = set(DraftLine.model_fields)
_DRAFT_SETTERS = tuple(BaseModel.__dict__[name].__set__
                       for name in ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__"))


def _plain(value: Decimal) -> Decimal:
    """2.000000 -> 2 (a metric's decimals pad its quantities), without turning 100 into 1E+2."""
    if value == value.to_integral_value():
        return value.quantize(_ONE)
    return value.normalize()


@lru_cache(maxsize=4096)
def last_day(exclusive_end: datetime) -> date:
    """Periods are [start, end); an invoice names the last day that belongs to the period."""
    return (exclusive_end - timedelta(microseconds=1)).date()


def preview_lines(plan: Plan, quantities: dict[str, Decimal], period: Period) -> list[DraftLine]:
    """Price a whole period for given quantities per metric, without usage or storage.

    Each metric's quantity is one synthetic event summed as is, so tiers, packages, free units,
    minimums and caps price exactly as in a billing run with that aggregated usage. Per-transaction
    models (percentage) see the quantity as one transaction's amount.
    """
    fields = {c.price.amount_field for c in plan.charges if type(c.price) is Percentage}
    fields.update(v.price.amount_field for c in plan.charges for v in c.versions if type(v.price) is Percentage)
    summed = tuple(BillableMetric(m.code, Aggregation.SUM, None, m.decimals, None) for m in plan.metrics)
    as_sums = Plan(plan.code, plan.name, plan.currency, plan.interval, plan.charges, summed, plan.alignment, plan.pay_in_advance,
                   plan.discounts, plan.rounding)
    events = [UsageEvent(f"preview-{code}", code, period.start, {f: q for f in fields}, q)
              for code in as_sums.metric_index for q in [quantities.get(code.split("#", 1)[0], Decimal(0))] if q]
    return rate_period(as_sums, period, period.start, None, events, period.end)
