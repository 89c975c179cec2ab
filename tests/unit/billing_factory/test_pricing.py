"""Each price model as a table of cases: usage in, lines (kind, quantity, unit price, cents) out.

Amounts are worked out by hand in the comments.
"""

from decimal import Decimal as D

import pytest

from services.billing_factory.domain import Charge, Graduated, Package, PerUnit, Tier, Volume
from tests.unit.billing_factory.rating_helpers import usage_rows

TIERS = (Tier(D(100), D("0.10")), Tier(D(1000), D("0.05"), D("2.00")), Tier(None, D("0.01")))
GRAD = Charge("g", "Calls", Graduated(TIERS), metric="m")
VOL = Charge("v", "Calls", Volume(TIERS), metric="m")
PER = Charge("u", "Calls", PerUnit(D("0.0125")), metric="m")
PKG = Charge("k", "Calls", Package(D(1000), D("5.00")), metric="m")
T, U = "tier_step", "usage"


@pytest.mark.parametrize("charge, quantity, expected", [
    (PER, 0, [(U, D(0), D("0.0125"), 0)]),  # a zero line keeps the component visible
    (PER, 3, [(U, D(3), D("0.0125"), 4)]),  # 0.0375 -> 0.04 half up
    (PER, 2, [(U, D(2), D("0.0125"), 3)]),  # 0.025 -> 0.03 half up
    (PER, "1.5", [(U, D("1.5"), D("0.0125"), 2)]),  # 0.01875 -> 0.02
    # graduated: 100 x 0.10 = 10.00
    (GRAD, 100, [(T, D(100), D("0.10"), 1000)]),
    # 100 x 0.10 + 50 x 0.05 + tier 2 flat 2.00 = 10.00 + 2.50 + 2.00
    (GRAD, 150, [(T, D(100), D("0.10"), 1000), (T, D(50), D("0.05"), 250), (T, D(1), D("2.00"), 200)]),
    # + 900 x 0.05 = 45.00, + 200 x 0.01 = 2.00
    (GRAD, 1200, [(T, D(100), D("0.10"), 1000), (T, D(900), D("0.05"), 4500), (T, D(1), D("2.00"), 200), (T, D(200), D("0.01"), 200)]),
    # volume: all 100 at tier 1 = 10.00
    (VOL, 100, [(U, D(100), D("0.10"), 1000)]),
    # all 101 at tier 2 (5.05) plus the tier's flat fee 2.00: cheaper than 100 units
    (VOL, 101, [(U, D(101), D("0.05"), 505), ("tier_step", D(1), D("2.00"), 200)]),
    (VOL, 1200, [(U, D(1200), D("0.01"), 1200)]),
    # package: per started 1000
    (PKG, 0, [(U, D(0), D("5.00"), 0)]),
    (PKG, 1, [(U, D(1), D("5.00"), 500)]),
    (PKG, 1000, [(U, D(1), D("5.00"), 500)]),
    (PKG, 1001, [(U, D(2), D("5.00"), 1000)]),
])
def test_usage_price_models(charge, quantity, expected):
    assert usage_rows(charge, quantity) == expected


def test_tier_steps_are_described_per_step():
    from tests.unit.billing_factory.rating_helpers import rated
    descriptions = [l.description for l in rated(GRAD, usage={"m": D(1200)})]
    assert descriptions == ["Calls – Staffel 1–100", "Calls – Staffel 101–1000", "Calls – Staffel 101–1000 Grundpreis", "Calls – Staffel ab 1001"]


@pytest.mark.parametrize("free, quantity, expected", [
    # 50 free: 120 - 50 = 70 billed at 0.10 = 7.00; an info line shows the free units
    (D(50), 120, [(T, D(70), D("0.10"), 700), ("parameter_info", D(50), D(0), 0)]),
    # fewer units than free: nothing billed, all 30 shown as free
    (D(50), 30, [("parameter_info", D(30), D(0), 0)]),
])
def test_free_units_are_consumed_before_the_tiers(free, quantity, expected):
    charge = Charge("g", "Calls", Graduated(TIERS), metric="m", free_units=free)
    assert usage_rows(charge, quantity) == expected


@pytest.mark.parametrize("maximum, minimum, quantity, expected", [
    # 1200 x 0.0125 = 15.00, capped at 10.00: a cap line of -5.00
    (D(10), None, 1200, [(U, D(1200), D("0.0125"), 1500), ("cap", D(1), D("-5.00"), -500)]),
    (D(10), None, 400, [(U, D(400), D("0.0125"), 500)]),  # 5.00 is under the cap
    # minimum 20.00, usage 5.00: a true-up of 15.00
    (None, D(20), 400, [(U, D(400), D("0.0125"), 500), ("minimum_true_up", D(1), D("15.00"), 1500)]),
    (None, D(20), 0, [(U, D(0), D("0.0125"), 0), ("minimum_true_up", D(1), D("20.00"), 2000)]),
    (None, D(20), 2000, [(U, D(2000), D("0.0125"), 2500)]),  # 25.00 is above the minimum
    (D(30), D(20), 4000, [(U, D(4000), D("0.0125"), 5000), ("cap", D(1), D("-20.00"), -2000)]),
])
def test_cap_and_minimum_commitment_show_their_own_lines(maximum, minimum, quantity, expected):
    charge = Charge("u", "Calls", PerUnit(D("0.0125")), metric="m", maximum=maximum, minimum=minimum)
    assert usage_rows(charge, quantity) == expected
