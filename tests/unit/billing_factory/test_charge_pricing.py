"""Price models as tables of cases, worked out by hand; invariants as properties."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal as D

import pytest
from hypothesis import given, strategies as st

from services.billing_factory.domain.charge_pricing import Charge, Tier, aggregate, price_charge, tier_problem

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def events(n, **props):
    return [{"timestamp": T0 + timedelta(minutes=i), "properties": dict(props)} for i in range(n)]


def lines(charge, evs=(), aggregation="count", field=None, factor=D(1), first=True):
    return [(l.kind, l.quantity, l.unit_price, l.amount.minor) for l in price_charge(charge, "EUR", list(evs), aggregation, field, factor, first)]


GRAD = (Tier(D(100), D("0.10")), Tier(D(1000), D("0.05"), D("2.00")), Tier(None, D("0.01")))


@pytest.mark.parametrize("charge, n, expected", [
    # flat fee, whole period
    (Charge("f", "Fee", "flat_fee", amount=D("49.00")), 0, [("fee", D(1), D("49.00"), 4900)]),
    # per unit: 30 x 0.05 = 1.50
    (Charge("u", "Calls", "per_unit", metric="m", unit_price=D("0.05")), 30, [("usage", D(30), D("0.05"), 150)]),
    # free units: 30 - 10 = 20 x 0.05 = 1.00
    (Charge("u", "Calls", "per_unit", metric="m", unit_price=D("0.05"), free_units=D(10)), 30, [("usage", D(20), D("0.05"), 100)]),
    # graduated 250: 100 x 0.10 = 10.00; 150 x 0.05 = 7.50 plus the tier's flat 2.00
    (Charge("g", "G", "graduated", metric="m", tiers=GRAD), 250,
     [("tier_step", D(100), D("0.10"), 1000), ("tier_step", D(150), D("0.05"), 750), ("tier_step", D(1), D("2.00"), 200)]),
    # volume 250: all units at the second tier 0.05 = 12.50, plus its flat fee
    (Charge("v", "V", "volume", metric="m", tiers=GRAD), 250, [("usage", D(250), D("0.05"), 1250), ("tier_step", D(1), D("2.00"), 200)]),
    # package: 2,500 units in started blocks of 1,000 at 4.00 = 3 blocks = 12.00
    (Charge("p", "P", "package", metric="m", package_size=D(1000), package_price=D("4.00")), 2500, [("usage", D(3), D("4.00"), 1200)]),
    # cap: 30 x 1.00 = 30.00 capped at 25.00 -> its own line of -5.00
    (Charge("c", "C", "per_unit", metric="m", unit_price=D("1.00"), maximum_amount=D("25.00")), 30,
     [("usage", D(30), D("1.00"), 3000), ("cap", D(1), D("-5.00"), -500)]),
    # minimum commitment: 3 x 1.00 = 3.00 trued up to 10.00
    (Charge("m", "M", "per_unit", metric="m", unit_price=D("1.00"), minimum_amount=D("10.00")), 3,
     [("usage", D(3), D("1.00"), 300), ("minimum_true_up", D(1), D("7.00"), 700)]),
])
def test_price_models(charge, n, expected):
    assert lines(charge, events(n)) == expected


def test_percentage_with_fixed_fee_and_per_transaction_bounds():
    charge = Charge("t", "Payments", "percentage", metric="m", percentage=D("2.9"), fixed_fee=D("0.30"),
                    min_per_transaction=D("0.50"), max_per_transaction=D("5.00"), amount_field="amount")
    evs = [{"timestamp": T0, "properties": {"amount": a}} for a in ("5.00", "100.00", "1000.00")]
    # 5.00 -> 0.445 raised to 0.50; 100.00 -> 3.20; 1000.00 -> 29.30 capped at 5.00 => 8.70
    assert lines(charge, evs)[0][3] == 870


def test_proration_and_one_time_charges():
    fee = Charge("f", "Fee", "flat_fee", amount=D("30.00"))
    assert lines(fee, factor=D(21) / D(30))[0][3] == 2100
    once = Charge("o", "Setup", "one_time", amount=D("500.00"))
    assert lines(once, first=True) == [("one_time", D(1), D("500.00"), 50000)] and lines(once, first=False) == []


def test_grouping_by_property_gives_a_line_per_value():
    charge = Charge("g", "km", "per_unit", metric="m", unit_price=D("0.30"), group_by="region")
    evs = events(2, region="EU", km="10") + events(1, region="US", km="5")
    out = price_charge(charge, "EUR", evs, "sum", "km", D(1))
    assert [(l.description, l.quantity, l.amount.minor) for l in out] == [("km (region: EU)", D(20), 600), ("km (region: US)", D(5), 150)]


@pytest.mark.parametrize("aggregation, expected", [("count", 3), ("sum", 11), ("max", 5), ("unique_count", 2), ("latest", 3)])
def test_aggregations(aggregation, expected):
    evs = [{"timestamp": T0 + timedelta(hours=h), "properties": {"v": v}} for h, v in ((0, 3), (1, 5), (2, 3))]
    assert aggregate(evs, aggregation, "v") == D(expected)


def test_time_weighted_sum_in_hours():
    # 10 GB for 2 h, then 4 GB for the remaining 1 h to period end = 24 GB-h
    evs = [{"timestamp": T0, "properties": {"gb": 10}}, {"timestamp": T0 + timedelta(hours=2), "properties": {"gb": 4}}]
    assert aggregate(evs, "time_weighted_sum", "gb", T0 + timedelta(hours=3)) == D(24)


@pytest.mark.parametrize("tiers, field", [
    ((Tier(D(100), D(1)), Tier(D(50), D(1)), Tier(None, D(1))), "tiers[1].up_to"),
    ((Tier(None, D(1)), Tier(None, D(1))), "tiers[0].up_to"),
    ((Tier(D(100), D(1)),), "tiers[0].up_to"),
    ((Tier(D(100), D(-1)), Tier(None, D(1))), "tiers[0].unit_price"),
])
def test_bad_tiers_are_named(tiers, field):
    assert tier_problem(tiers)[0] == field


@given(st.integers(min_value=0, max_value=5000), st.integers(min_value=0, max_value=5000))
def test_graduated_charges_never_decrease_and_equal_the_sum_of_their_steps(a, b):
    charge = Charge("g", "G", "graduated", metric="m", tiers=GRAD)
    low, high = sorted((a, b))
    total = lambda n: sum(l[3] for l in lines(charge, events(n)))  # noqa: E731
    assert total(low) <= total(high)
    steps = lines(charge, events(high))
    assert sum(l[3] for l in steps) == total(high)
    assert sum(l[1] for l in steps if l[2] != D("2.00") or l[1] != 1) == high


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=1, max_value=10**6))
def test_capped_charges_never_exceed_the_cap(n, cap_cents):
    charge = Charge("c", "C", "per_unit", metric="m", unit_price=D("0.01"), maximum_amount=D(cap_cents) / 100)
    out = price_charge(charge, "EUR", [], "count", None, D(1))
    assert sum(l.amount.minor for l in out) <= cap_cents
    counted = price_charge(charge, "EUR", events(min(n, 300)), "count", None, D(1))
    assert sum(l.amount.minor for l in counted) == min(min(n, 300), cap_cents)
