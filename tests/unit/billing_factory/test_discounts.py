"""Discounts, coupons and credits: negative lines, split per VAT rate, never below zero."""

from decimal import Decimal as D

import pytest

from services.billing_factory.domain import Charge, Credit, Discount, FlatFee, SubscriptionPeriod, total_minor
from tests.unit.billing_factory.rating_helpers import NOV, rated

A = Charge("a", "Hosting", FlatFee(D("100.00")))  # S 19 %
B = Charge("b", "Buch", FlatFee(D("50.00")), tax_rate=D(7))  # S 7 %


def reductions(lines):
    return [(l.kind.value, l.charge_code, l.tax_rate, l.amount.minor) for l in lines if l.kind.value in ("discount", "credit")]


@pytest.mark.parametrize("discount, expected", [
    # 10 % per rate: 10.00 on the 19 % lines, 5.00 on the 7 % lines
    (Discount("c10", "10 %", percentage=D(10)), [("discount", "c10", D(19), -1000), ("discount", "c10", D(7), -500)]),
    # 15.00 fixed split 100 : 50 = 10.00 and 5.00
    (Discount("f15", "15 EUR", amount=D(15)), [("discount", "f15", D(19), -1000), ("discount", "f15", D(7), -500)]),
    # 10.00 fixed split 100 : 50 = 6.666 / 3.333 -> 6.67 / 3.33 (largest remainder)
    (Discount("f10", "10 EUR", amount=D(10)), [("discount", "f10", D(19), -667), ("discount", "f10", D(7), -333)]),
    # a fixed discount above the total takes it to zero, not below
    (Discount("big", "500 EUR", amount=D(500)), [("discount", "big", D(19), -10000), ("discount", "big", D(7), -5000)]),
    # limited to one charge
    (Discount("onlyb", "20 % Buch", percentage=D(20), charge_codes=frozenset({"b"})), [("discount", "onlyb", D(7), -1000)]),
])
def test_discounts_split_by_vat_rate(discount, expected):
    lines = rated(A, B, ctx=SubscriptionPeriod(NOV, NOV.start, coupons=(discount,)))
    assert reductions(lines) == expected


@pytest.mark.parametrize("period_index, applies", [(1, False), (2, True), (4, True), (5, False)])
def test_a_coupon_applies_for_its_number_of_periods(period_index, applies):
    coupon = Discount("intro", "3 Monate 50 %", percentage=D(50), periods=3, first_period_index=2)
    lines = rated(A, ctx=SubscriptionPeriod(NOV, NOV.start, period_index=period_index, coupons=(coupon,)))
    assert bool(reductions(lines)) == applies


def test_plan_discounts_apply_like_coupons():
    lines = rated(A, discounts=(Discount("launch", "Launch", percentage=D(20), periods=1),))
    assert reductions(lines) == [("discount", "launch", D(19), -2000)]


@pytest.mark.parametrize("credit, expected", [
    # two loyalty points of 5.00: 10.00 off, shown as 2 x -5.00 (the invoice layout users know)
    (Credit("tp", "Gutschrift - Treuepunkte eingelöst", D("5.00"), D(2)), [("credit", D(2), D("-5.00"), -1000)]),
    # more credit than due: used up to the 100.00 due
    (Credit("gw", "Kulanz", D("250.00")), [("credit", D(1), D("-100.00"), -10000)]),
])
def test_credits_are_used_up_to_the_amount_due(credit, expected):
    lines = rated(A, ctx=SubscriptionPeriod(NOV, NOV.start, credits=(credit,)))
    assert [(l.kind.value, l.quantity, l.unit_price, l.amount.minor) for l in lines if l.kind.value == "credit"] == expected
    assert total_minor(lines) >= 0


def test_discounts_then_credits_never_take_a_rate_below_zero():
    ctx = SubscriptionPeriod(NOV, NOV.start, coupons=(Discount("d", "d", percentage=D(90)), Discount("e", "e", amount=D(100))),
                             credits=(Credit("c", "c", D(1000)),))
    lines = rated(A, B, ctx=ctx)
    for rate in (D(19), D(7)):
        assert sum(l.amount.minor for l in lines if l.tax_rate == rate) == 0
