"""Rating: one subscription period of a plan, with its usage, into invoice lines.

`rate` is a pure function; the current time comes in as `now`. What is due
depends on it: fees in advance once their period has begun, fees in arrears,
and minimum true-ups only once the period (or the subscription) has ended;
usage counts up to `now`. Each line is rounded on its own with the plan's
rounding policy; an invoice total is the sum of lines.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Mapping, Sequence, Union

from libs.money import Money, minor_unit_exponent
from services.billing_factory.domain.charges import Bundle, Charge, FlatFee, OneTime
from services.billing_factory.domain.discounts import reduction_lines
from services.billing_factory.domain.labels import GERMAN, Labels
from services.billing_factory.domain.lines import Line, LineKind, make_money
from services.billing_factory.domain.metrics import UsageEvent
from services.billing_factory.domain.periods import Period, active_windows, prorate_minor
from services.billing_factory.domain.plans import Plan
from services.billing_factory.domain.subscriptions import SubscriptionPeriod
from services.billing_factory.domain.tally import Tallies
from services.billing_factory.domain.usage import rate_usage_charge
from services.billing_factory.domain.versions import Segment, price_at, price_segments

Aggregates = Mapping[str, Union[Decimal, Mapping[str, Decimal]]]
Usage = Union[Sequence[UsageEvent], Aggregates, Tallies]
_ONE = Decimal(1)
_PLACES = Decimal("0.000001")


class Rater:
    """Shared state of one rating run: the currency's scale, rounding, the period and the lines so far."""

    __slots__ = ("plan", "ctx", "labels", "now", "currency", "scale", "mode", "period", "start", "end", "closed", "lines", "money", "memo",
                 "known")

    def __init__(self, plan: Plan, ctx: SubscriptionPeriod, labels: Labels, now: datetime) -> None:
        self.plan, self.ctx, self.labels, self.now = plan, ctx, labels, now
        self.currency = plan.currency
        known = _KNOWN.get(id(plan))
        if known is None or known[0] is not plan:
            if len(_KNOWN) > 256:
                _KNOWN.clear()
            known = _KNOWN[id(plan)] = (plan, Decimal(10) ** minor_unit_exponent(plan.currency), plan.rounding.decimal_mode,
                                        {0: Money(0, plan.currency)}, {})
        _, self.scale, self.mode, self.money, self.known = known
        if len(self.known) > 4096:
            self.known.clear()
        self.period = ctx.period
        self.start, self.end = active_part(ctx.period, ctx.started_at, ctx.ends_at)
        self.closed = now >= self.end
        self.lines: list[Line] = []
        self.memo: dict = {}  # aggregates shared by the charges on one metric

    def minor(self, amount: Decimal) -> int:
        """A major-unit amount rounded to the minor unit with the plan's policy."""
        return int((amount * self.scale).quantize(_ONE, self.mode))

    def prorated(self, amount: Decimal, start: datetime, end: datetime) -> int:
        p = self.period
        key = ("prorated", amount, p.start, p.end, start, end)
        minor = self.known.get(key)
        if minor is None:
            minor = self.known[key] = prorate_minor(amount * self.scale, p.days, p.day_of(start), p.day_of(end), self.plan.rounding)
        return minor

    def segments(self, charge: Charge, start: datetime, end: datetime) -> list[Segment]:
        """price_segments, once per charge and window: the periods of one billing run share their windows."""
        key = ("segments", charge.code, start, end)
        segments = self.known.get(key)
        if segments is None:
            segments = self.known[key] = price_segments(charge, start, end)
        return segments

    def emit(self, charge: Charge, kind: LineKind, description: str, quantity: Decimal, unit_price: Decimal, minor: int,
             start: datetime, end: datetime, group_key: str | None = None, info: str | None = None) -> Line:
        money = self.money.get(minor)
        if money is None:
            if len(self.money) > 4096:
                self.money.clear()
            money = self.money[minor] = make_money(minor, self.currency)
        line = _new_line(Line, (charge.code, kind, description, charge.product or charge.name, quantity, unit_price, money,
                                charge.tax_category, charge.tax_rate, start, end, group_key, info, charge.unit_code))
        self.lines.append(line)
        return line


_new_line = tuple.__new__  # a Line from its fourteen values in field order, as Line(...) builds it (a unit test compares them)

# Per plan (by identity): the currency's scale, the rounding mode, the amounts its lines have had (minor -> Money, so
# equal amounts share one immutable Money), and what depends only on the period and window, not on usage (price
# segments, prorated caps and fees), so the periods of one billing run compute it once.
_KNOWN: dict[int, tuple[Plan, Decimal, str, dict[int, Money], dict]] = {}


def active_part(period: Period, started_at: datetime, ends_at: datetime | None) -> tuple[datetime, datetime]:
    """The part of the period the subscription (or this plan phase of it) is active; empty when end <= start."""
    start = period.start if started_at <= period.start else started_at
    return start, period.end if ends_at is None or ends_at >= period.end else ends_at


def usage_window(period: Period, started_at: datetime, ends_at: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the usage `rate` counts: the active part of the period, up to `now`."""
    start, end = active_part(period, started_at, ends_at)
    return start, end if now >= end else now


def rate(plan: Plan, ctx: SubscriptionPeriod, usage: Usage, now: datetime, labels: Labels = GERMAN) -> list[Line]:
    """The lines of one subscription period: charges in plan order, one-time items, then discounts and credits.

    `usage` is either the period's usage events (any metric; earlier events
    only open a time-weighted sum) or totals per metric code, optionally per
    group value; totals cannot rate percentage prices or a price change
    inside the period of a usage charge (UsageNotRateable). `Tallies` of the
    stored rows (domain.tally) rate like the events they stand for, or raise
    NeedsEvents when they cannot.
    """
    r = Rater(plan, ctx, labels, now)
    if r.end <= r.start:
        return []
    by_metric: dict[str, list[UsageEvent]] | None = None
    if type(usage) is not dict and type(usage) is not Tallies and not isinstance(usage, Mapping):
        by_metric = {}
        for event in usage:
            by_metric.setdefault(event.metric_code, []).append(event)
    for charge in plan.charges:
        price = charge.price
        if type(price) is FlatFee or type(price) is Bundle:
            _fee(r, charge)
        elif type(price) is OneTime:
            if r.period.start <= ctx.started_at < r.period.end:
                price = price_at(charge, ctx.started_at)
                r.emit(charge, LineKind.ONE_TIME, charge.name, price.quantity, price.amount, r.minor(price.quantity * price.amount), r.start, r.end)
        else:
            rate_usage_charge(r, charge, plan.metric_index[charge.metric], by_metric, usage)
    for item in ctx.one_time_items:
        r.lines.append(Line(item.code, LineKind.ONE_TIME, item.name, item.product or item.name, item.quantity, item.unit_price,
                            Money(r.minor(item.quantity * item.unit_price), r.currency), item.tax_category, item.tax_rate,
                            r.start, r.end, None, None, item.unit_code))
    if plan.discounts or ctx.coupons or ctx.credits:
        r.lines.extend(reduction_lines(plan.discounts + ctx.coupons, ctx.credits, r.lines, ctx.period_index,
                                       r.currency, plan.rounding, r.start, r.end))
    return r.lines


def _fee(r: Rater, charge: Charge) -> None:
    """A recurring fee, prorated by day over the active days and split where its price changes."""
    base = charge.price
    in_advance = r.plan.pay_in_advance if base.in_advance is None else base.in_advance
    if not (r.now >= r.start if in_advance else r.closed):
        return
    if not r.ctx.pauses:
        key = ("fee", charge.code, r.period.start, r.period.end, r.start, r.end, id(r.labels))
        lines = r.known.get(key)
        if lines is None or lines[0] is not r.labels:
            first = len(r.lines)
            _fee_lines(r, charge, [(r.start, r.end)])
            r.known[key] = (r.labels, tuple(r.lines[first:]))
        else:
            r.lines.extend(lines[1])
        return
    _fee_lines(r, charge, active_windows(r.start, r.end, r.ctx.pauses))


def _fee_lines(r: Rater, charge: Charge, windows: list[tuple[datetime, datetime]]) -> None:
    base = charge.price
    days = r.period.days
    for w_start, w_end in windows:
        for seg in r.segments(charge, w_start, w_end):
            first, last = r.period.day_of(seg.start), r.period.day_of(seg.end)
            if last <= first:
                continue
            whole = first == 0 and last == days
            quantity = _ONE if whole else (Decimal(last - first) / days).quantize(_PLACES)
            info = None if whole else f"{last - first}/{days} {r.labels.days}"
            amount = seg.price.amount
            r.emit(charge, LineKind.FEE, charge.name, quantity, amount, r.minor(amount) if whole else r.prorated(amount, seg.start, seg.end),
                   seg.start, seg.end, None, info)
    if type(base) is Bundle:
        zero = Decimal(0)
        for component in base.components:
            r.emit(charge, LineKind.PARAMETER_INFO, f"{r.labels.includes}: {component}", _ONE, zero, 0, r.start, r.end)
