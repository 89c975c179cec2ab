"""Plans validate when built, and every refusal names the faulty field."""

from datetime import datetime, timezone
from decimal import Decimal as D

import pytest

from services.billing_factory.domain import (
    Aggregation, BillableMetric, Charge, Discount, FlatFee, Graduated, Interval, InvalidPlan, Package, Percentage, PerUnit, Plan,
    PriceVersion, Tier, Volume,
)

M = (BillableMetric("m", Aggregation.SUM, "v"),)
OK = Charge("ok", "OK", FlatFee(D(1)))
T1 = datetime(2026, 1, 1, tzinfo=timezone.utc)
T2 = datetime(2026, 2, 1, tzinfo=timezone.utc)


def plan(*charges, currency="EUR", metrics=M, discounts=()):
    return Plan("p", "P", currency, Interval.MONTHLY, charges, metrics, discounts=discounts)


@pytest.mark.parametrize("charge, field", [
    (Charge("g", "G", Graduated((Tier(D(100), D(1)), Tier(D(50), D(1)), Tier(None, D(1)))), metric="m"), "charges[2].price.tiers[1].up_to"),
    (Charge("g", "G", Graduated((Tier(D(100), D(1)), Tier(D(100), D(1)), Tier(None, D(1)))), metric="m"), "charges[2].price.tiers[1].up_to"),
    (Charge("g", "G", Volume((Tier(None, D(1)), Tier(None, D(1)))), metric="m"), "charges[2].price.tiers[0].up_to"),
    (Charge("g", "G", Graduated((Tier(D(100), D(1)),)), metric="m"), "charges[2].price.tiers[0].up_to"),
    (Charge("g", "G", Graduated((Tier(D(100), D(-1)), Tier(None, D(1)))), metric="m"), "charges[2].price.tiers[0].unit_price"),
    (Charge("g", "G", Graduated((Tier(D(100), D(1), D(-2)), Tier(None, D(1)))), metric="m"), "charges[2].price.tiers[0].flat_fee"),
    (Charge("g", "G", Graduated(()), metric="m"), "charges[2].price.tiers"),
    (Charge("g", "G", Graduated((Tier(D(0), D(1)), Tier(None, D(1)))), metric="m"), "charges[2].price.tiers[0].up_to"),
    (Charge("g", "G", PerUnit(0.5), metric="m"), "charges[2].price.unit_price"),  # float refused
    (Charge("u", "U", PerUnit(D(1))), "charges[2].metric"),
    (Charge("u", "U", PerUnit(D(1)), metric="nope"), "charges[2].metric"),
    (Charge("k", "K", Package(D(0), D(5)), metric="m"), "charges[2].price.size"),
    (Charge("p", "P", Percentage(D(2), ""), metric="m"), "charges[2].price.amount_field"),
    (Charge("p", "P", Percentage(D(2), "a", min_fee=D(3), max_fee=D(1)), metric="m"), "charges[2].price.max_fee"),
    (Charge("u", "U", PerUnit(D(1)), metric="m", minimum=D(10), maximum=D(5)), "charges[2].maximum"),
    (Charge("f", "F", FlatFee(D(1)), maximum=D(5)), "charges[2].maximum"),
    (Charge("f", "F", FlatFee(D(1)), tax_category="X"), "charges[2].tax_category"),
    (Charge("f", "F", FlatFee(D(1)), tax_category="AE", tax_rate=D(19)), "charges[2].tax_rate"),
    (Charge("ok", "dup", FlatFee(D(1))), "charges[2].code"),
    (Charge("v", "V", FlatFee(D(1)), versions=(PriceVersion(T2, T1, FlatFee(D(2))),)), "charges[2].versions[0].valid_until"),
    (Charge("v", "V", FlatFee(D(1)), versions=(PriceVersion(T1, None, FlatFee(D(2))), PriceVersion(T2, None, FlatFee(D(3))))),
     "charges[2].versions[0].valid_until"),
    (Charge("v", "V", FlatFee(D(1)), versions=(PriceVersion(T1, T2, PerUnit(D(2))),)), "charges[2].versions[0].price"),
    (Charge("v", "V", PerUnit(D(1)), metric="m", versions=(PriceVersion(T1, None, PerUnit(D(-2))),)), "charges[2].versions[0].price.unit_price"),
])
def test_invalid_charges_name_the_field(charge, field):
    with pytest.raises(InvalidPlan) as err:
        plan(OK, Charge("x", "X", FlatFee(D(2))), charge)
    assert err.value.field == field


@pytest.mark.parametrize("kwargs, field", [
    ({"currency": "XYZ"}, "currency"),
    ({"metrics": (BillableMetric("m", Aggregation.UNIQUE_COUNT),)}, "metrics[0].field"),
    ({"metrics": (BillableMetric("m", "median", "v"),)}, "metrics[0].aggregation"),
    ({"metrics": M + M}, "metrics[1].code"),
    ({"discounts": (Discount("d", "D", percentage=D(120)),)}, "discounts[0].percentage"),
    ({"discounts": (Discount("d", "D", percentage=D(10), amount=D(1)),)}, "discounts[0].percentage"),
])
def test_invalid_plans_name_the_field(kwargs, field):
    with pytest.raises(InvalidPlan) as err:
        plan(OK, **kwargs)
    assert err.value.field == field


def test_a_valid_plan_is_built():
    tiers = (Tier(D(100), D("0.1")), Tier(D(1000), D("0.05"), D(2)), Tier(None, D("0.01")))
    p = plan(OK, Charge("g", "G", Graduated(tiers), metric="m", versions=(PriceVersion(T1, T2, Volume(tiers)),)))
    assert p.metric_index["m"].aggregation is Aggregation.SUM
