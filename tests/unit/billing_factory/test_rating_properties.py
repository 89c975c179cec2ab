"""Invariants of rating, checked on generated plans and usage."""

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal as D

from hypothesis import given, settings, strategies as st

from libs.money import Money
from services.billing_factory.domain import (
    Aggregation, BillableMetric, Charge, Credit, Discount, FlatFee, Graduated, Package, PerUnit, PriceVersion, SubscriptionPeriod, Tier,
    UsageEvent, Volume, rate, total_minor,
)
from services.billing_factory.domain.lines import Line, LineKind
from tests.unit.billing_factory.rating_helpers import AFTER, NOV, plan_of, rated, utc

prices = st.decimals(min_value=0, max_value=100, places=4)
quantities = st.decimals(min_value=0, max_value=100_000, places=2)


@st.composite
def tiers(draw):
    bounds = sorted(set(draw(st.lists(st.integers(min_value=1, max_value=50_000), max_size=4))))
    ups = [D(b) for b in bounds] + [None]
    return tuple(Tier(up, draw(prices), draw(st.sampled_from([D(0), D("1.50")]))) for up in ups)


def amount(charge, quantity):
    return total_minor(rated(charge, usage={"m": quantity}))


@given(tiers(), quantities)
def test_graduated_amount_is_the_sum_of_its_steps_and_the_steps_cover_the_quantity(ts, q):
    lines = rated(Charge("g", "G", Graduated(ts), metric="m"), usage={"m": q})
    unit_steps = [l for l in lines if not l.description.endswith("Grundpreis")]
    assert sum(l.quantity for l in unit_steps) == q
    assert total_minor(lines) == sum(l.amount.minor for l in lines)
    for line in lines:  # every step is its quantity x unit price, rounded half up
        assert line.amount.minor == int((line.quantity * line.unit_price * 100).quantize(D(1), rounding=ROUND_HALF_UP))


@given(st.sampled_from(["per_unit", "graduated", "package"]), tiers(), prices, quantities, quantities,
       st.one_of(st.none(), st.decimals(min_value=0, max_value=10_000, places=2)), st.decimals(min_value=0, max_value=500, places=0))
def test_monotone_models_never_charge_less_for_more_usage(model, ts, price, a, b, cap, free):
    price_model = {"per_unit": PerUnit(price), "graduated": Graduated(ts), "package": Package(D(100), price)}[model]
    charge = Charge("c", "C", price_model, metric="m", maximum=cap, free_units=free)
    low, high = sorted((a, b))
    assert amount(charge, low) <= amount(charge, high)
    if cap is not None:
        assert amount(charge, high) <= Money.from_decimal(cap, "EUR").minor


def test_volume_tiers_are_not_monotone_at_a_tier_boundary():
    # all units at the reached tier: 100 x 0.10 = 10.00, but 101 x 0.05 = 5.05
    charge = Charge("v", "V", Volume((Tier(D(100), D("0.10")), Tier(None, D("0.05")))), metric="m")
    assert amount(charge, D(101)) < amount(charge, D(100))


@given(tiers(), st.lists(st.integers(min_value=0, max_value=29 * 24), min_size=1, max_size=40), st.integers(min_value=1, max_value=29))
@settings(max_examples=50)
def test_a_price_version_with_the_same_price_changes_nothing(ts, hours, cut_day):
    # splitting usage by timestamp must continue the tiers, not restart them
    metric = BillableMetric("calls", Aggregation.COUNT)
    events = [UsageEvent(str(i), "calls", NOV.start + timedelta(hours=h)) for i, h in enumerate(hours)]
    plain = Charge("c", "C", Graduated(ts), metric="calls")
    split = Charge("c", "C", Graduated(ts), metric="calls", versions=(PriceVersion(utc(2026, 11, 1 + cut_day), None, Graduated(ts)),))
    ctx = SubscriptionPeriod(NOV, NOV.start)
    whole = rate(plan_of(plain, metrics=(metric,)), ctx, events, AFTER)
    parts = rate(plan_of(split, metrics=(metric,)), ctx, events, AFTER)
    exact = lambda lines: sum(l.quantity * l.unit_price for l in lines)  # noqa: E731
    assert exact(parts) == exact(whole)
    # each line rounds on its own, so the split may differ by a cent per extra line, no more
    assert abs(total_minor(parts) - total_minor(whole)) <= len(parts) - len(whole)


@given(st.lists(st.decimals(min_value=0, max_value=10_000, places=2), min_size=1, max_size=5), st.integers(min_value=1, max_value=29),
       st.integers(min_value=0, max_value=23))
def test_a_plan_change_bills_exactly_one_whole_period_of_fees(fees, day, hour):
    charges = [Charge(f"f{i}", f"F{i}", FlatFee(fee)) for i, fee in enumerate(fees)]
    change = utc(2026, 11, 1 + day, hour)
    old = rate(plan_of(*charges), SubscriptionPeriod(NOV, utc(2026, 1, 1), ends_at=change), {}, AFTER)
    new = rate(plan_of(*charges), SubscriptionPeriod(NOV, change), {}, AFTER)
    assert total_minor(old) + total_minor(new) == sum(Money.from_decimal(f, "EUR").minor for f in fees)


@given(st.lists(st.tuples(st.decimals(min_value=0, max_value=1000, places=2), st.sampled_from([D(19), D(7)])), min_size=1, max_size=5),
       st.decimals(min_value=0, max_value=5000, places=2))
def test_a_fixed_discount_is_allocated_exactly(fees, discount):
    charges = [Charge(f"f{i}", "F", FlatFee(fee), tax_rate=rate_) for i, (fee, rate_) in enumerate(fees)]
    lines = rated(*charges, ctx=SubscriptionPeriod(NOV, NOV.start, coupons=(Discount("d", "D", amount=discount),)))
    gross = sum(Money.from_decimal(f, "EUR").minor for f, _ in fees)
    reduced = -sum(l.amount.minor for l in lines if l.kind is LineKind.DISCOUNT)
    assert reduced == min(Money.from_decimal(discount, "EUR").minor, gross)
    assert total_minor(lines) == gross - reduced


MIXED = plan_of(
    Charge("base", "Base", FlatFee(D("49.99"))),
    Charge("g", "G", Graduated((Tier(D(100), D("0.0333")), Tier(D(1000), D("0.0125"), D("2.50")), Tier(None, D("0.001")))), metric="m",
           free_units=D(25), maximum=D(30), minimum=D(5)),
    Charge("v", "V", Volume((Tier(D(500), D("0.07")), Tier(None, D("0.035"), D(1)))), metric="m", tax_rate=D(7)),
    Charge("k", "K", Package(D(250), D("1.99")), metric="m", tax_category="Z", tax_rate=D(0)),
    Charge("u", "U", PerUnit(D("0.00375")), metric="m", minimum=D(2)),
)
PRICED = (LineKind.USAGE, LineKind.TIER_STEP, LineKind.ONE_TIME)


@given(quantities, st.integers(min_value=0, max_value=29), st.decimals(min_value=0, max_value=50, places=0), st.decimals(min_value=0, max_value=200, places=2))
def test_every_line_of_a_mixed_plan_is_consistent(q, start_day, percent, credit):
    ctx = SubscriptionPeriod(NOV, utc(2026, 11, 1 + start_day), coupons=(Discount("d", "D", percentage=percent),),
                             credits=(Credit("c", "C", credit),) if credit else ())
    lines = rate(MIXED, ctx, {"m": q}, AFTER)
    for line in lines:
        if line.kind in PRICED:  # quantity x unit price, rounded half up on its own
            assert line.amount.minor == int((line.quantity * line.unit_price * 100).quantize(D(1), rounding=ROUND_HALF_UP))
        assert NOV.start <= line.period_start < line.period_end <= NOV.end
    g = sum(l.amount.minor for l in lines if l.charge_code == "g")
    assert g <= Money.from_decimal(D(30) * (30 - start_day) / 30, "EUR").minor + 1  # the prorated cap (rounding: one cent)
    assert g >= Money.from_decimal(D(5) * (30 - start_day) / 30, "EUR").minor - 1  # the prorated minimum
    for rate_ in (D(19), D(7), D(0)):  # reductions never take a VAT rate below zero
        assert sum(l.amount.minor for l in lines if l.tax_rate == rate_) >= 0


def test_a_rated_line_carries_each_value_in_its_named_field():
    """Rating builds a Line from its values in field order (Rater.emit); a value in the wrong place would show here."""
    charge = Charge("u", "Strom", PerUnit(D("0.30")), metric="m", product="Energie", tax_category="AE", tax_rate=D(0), unit_code="KWH")
    (line,) = rated(charge, usage={"m": D(10)})
    assert line == Line(charge_code="u", kind=LineKind.USAGE, description="Strom", product="Energie", quantity=D(10), unit_price=D("0.30"),
                        amount=Money(300, "EUR"), tax_category="AE", tax_rate=D(0), period_start=NOV.start, period_end=NOV.end,
                        group_key=None, info=None, unit_code="KWH")
    assert (line.amount, line.unit_code, line.product) == (Money(300, "EUR"), "KWH", "Energie")
