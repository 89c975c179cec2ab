"""rate(): fees, proration, price changes, percentages, grouping, one-time charges and the time passed in."""

from datetime import timedelta
from decimal import Decimal as D

import pytest

from services.billing_factory.domain import (
    Aggregation, BillableMetric, Bundle, Charge, FlatFee, Graduated, OneTime, OneTimeItem, ParameterInfo, Percentage, PerUnit,
    PriceVersion, SubscriptionPeriod, Tier, UsageEvent, UsageNotRateable, rate, total_minor,
)
from tests.unit.billing_factory.rating_helpers import AFTER, NOV, plan_of, rated, rows, utc

FEE = Charge("base", "Grundgebühr", FlatFee(D("30.00")))
ARREARS = Charge("base", "Grundgebühr", FlatFee(D("30.00"), in_advance=False))


@pytest.mark.parametrize("started, ends, pauses, expected", [
    (NOV.start, None, (), [("fee", D(1), D("30.00"), 3000)]),
    (utc(2026, 11, 16), None, (), [("fee", D("0.5"), D("30.00"), 1500)]),  # 15 of 30 days
    (utc(2026, 11, 10, 14), None, (), [("fee", D("0.7"), D("30.00"), 2100)]),  # 10th..30th = 21 days
    (NOV.start, utc(2026, 11, 11), (), [("fee", D("0.333333"), D("30.00"), 1000)]),  # 1st..10th = 10 days
    # paused 11th..20th: 10 + 10 days billed in two lines, 10.00 each
    (NOV.start, None, ((utc(2026, 11, 11), utc(2026, 11, 21)),), [("fee", D("0.333333"), D("30.00"), 1000), ("fee", D("0.333333"), D("30.00"), 1000)]),
    (utc(2026, 12, 5), None, (), []),  # not active in this period
])
def test_recurring_fee_is_prorated_by_day(started, ends, pauses, expected):
    ctx = SubscriptionPeriod(NOV, started, ends, pauses)
    assert rows(rated(FEE, ctx=ctx)) == expected


@pytest.mark.parametrize("charge, now, billed", [
    (FEE, utc(2026, 10, 31), False),  # before the period: nothing due yet
    (FEE, NOV.start, True),  # in advance: due when the period begins
    (ARREARS, utc(2026, 11, 20), False),  # in arrears: only once the period has ended
    (ARREARS, AFTER, True),
])
def test_in_advance_and_in_arrears_depend_on_now(charge, now, billed):
    assert bool(rated(charge, now=now)) == billed


def test_plan_change_inside_a_period_bills_each_plan_for_its_days_and_sums_to_a_whole_period():
    change = utc(2026, 11, 11)
    old = rate(plan_of(FEE), SubscriptionPeriod(NOV, utc(2026, 1, 1), ends_at=change), {}, AFTER)
    new = rate(plan_of(FEE), SubscriptionPeriod(NOV, change), {}, AFTER)
    assert rows(old) + rows(new) == [("fee", D("0.333333"), D("30.00"), 1000), ("fee", D("0.666667"), D("30.00"), 2000)]


def test_a_price_change_inside_the_period_splits_the_fee_by_day():
    charge = Charge("base", "Grundgebühr", FlatFee(D("30.00")), versions=(PriceVersion(utc(2026, 11, 21, 9), None, FlatFee(D("60.00"))),))
    lines = rated(charge)
    # 1st..20th at 30.00 = 20.00; 21st..30th at 60.00 = 20.00
    assert rows(lines) == [("fee", D("0.666667"), D("30.00"), 2000), ("fee", D("0.333333"), D("60.00"), 2000)]
    assert lines[1].period_start == utc(2026, 11, 21, 9)


def test_a_price_change_splits_usage_by_timestamp_and_tiers_continue():
    metric = BillableMetric("calls", Aggregation.COUNT)
    tiers_old = (Tier(D(10), D("1.00")), Tier(None, D("0.50")))
    tiers_new = (Tier(D(10), D("2.00")), Tier(None, D("1.00")))
    charge = Charge("c", "Calls", Graduated(tiers_old), metric="calls", versions=(PriceVersion(utc(2026, 11, 16), None, Graduated(tiers_new)),))
    events = [UsageEvent(f"a{i}", "calls", utc(2026, 11, 2)) for i in range(8)] + [UsageEvent(f"b{i}", "calls", utc(2026, 11, 20)) for i in range(5)]
    lines = rate(plan_of(charge, metrics=(metric,)), SubscriptionPeriod(NOV, NOV.start), events, AFTER)
    # 8 calls at the old tier 1 (8.00); then units 9-10 at the new tier 1 (2 x 2.00) and 11-13 at the new tier 2 (3 x 1.00)
    assert rows(lines) == [("tier_step", D(8), D("1.00"), 800), ("tier_step", D(2), D("2.00"), 400), ("tier_step", D(3), D("1.00"), 300)]


def test_totals_cannot_be_split_at_a_price_change():
    charge = Charge("u", "Calls", PerUnit(D(1)), metric="m", versions=(PriceVersion(utc(2026, 11, 16), None, PerUnit(D(2))),))
    with pytest.raises(UsageNotRateable):
        rated(charge, usage={"m": D(5)})


PCT = Charge("pay", "Zahlungen", Percentage(D("2"), "amount", fixed_fee=D("0.30"), min_fee=D("0.50"), max_fee=D("3.00")), metric="pay")
PAY = BillableMetric("pay", Aggregation.COUNT)


def test_percentage_with_fixed_fee_and_per_transaction_bounds():
    amounts = ["5.00", "100.00", "500.00"]
    events = [UsageEvent(f"p{i}", "pay", utc(2026, 11, 3 + i), {"amount": a}) for i, a in enumerate(amounts)]
    lines = rate(plan_of(PCT, metrics=(PAY,)), SubscriptionPeriod(NOV, NOV.start), events, AFTER)
    # raw fees: 0.10+0.30 = 0.40 (min 0.50: +0.10); 2.00+0.30 = 2.30; 10.00+0.30 = 10.30 (max 3.00: -7.30)
    # 2 % of 605.00 = 12.10; 3 x 0.30 = 0.90; bounds +0.10 - 7.30 = -7.20; total 5.80 = 0.50 + 2.30 + 3.00
    assert rows(lines) == [("usage", D("605.00"), D("0.02"), 1210), ("usage", D(3), D("0.30"), 90), ("usage", D(1), D("-7.20"), -720)]
    assert total_minor(lines) == 580


def test_percentage_needs_events_not_totals():
    with pytest.raises(UsageNotRateable):
        rate(plan_of(PCT, metrics=(PAY,)), SubscriptionPeriod(NOV, NOV.start), {"pay": D(3)}, AFTER)


def test_grouped_usage_has_a_line_per_value_and_parameter_info_with_the_summed_amount():
    metric = BillableMetric("km", Aggregation.SUM, "km", group_by="class")
    charge = Charge("km", "Fahrten", PerUnit(D("0.30")), metric="km", parameter=ParameterInfo("km", "sum", "km"))
    events = [UsageEvent("1", "km", utc(2026, 11, 2), {"km": "10", "class": "PKW"}), UsageEvent("2", "km", utc(2026, 11, 3), {"km": "5.5", "class": "LKW"}),
              UsageEvent("3", "km", utc(2026, 11, 4), {"km": "2", "class": "PKW"})]
    lines = rate(plan_of(charge, metrics=(metric,)), SubscriptionPeriod(NOV, NOV.start), events, AFTER)
    assert [(l.kind.value, l.description, l.group_key, l.quantity, l.amount.minor) for l in lines] == [
        ("usage", "Fahrten (class: LKW)", "LKW", D("5.5"), 165),  # 5.5 x 0.30
        ("parameter_info", "Fahrten (class: LKW) – Summe km: 5.5", "LKW", D("5.5"), 0),
        ("usage", "Fahrten (class: PKW)", "PKW", D(12), 360),  # 12 x 0.30
        ("parameter_info", "Fahrten (class: PKW) – Summe km: 12", "PKW", D(12), 0),
    ]


def test_parameter_info_can_list_a_property_value():
    metric = BillableMetric("calls", Aggregation.COUNT)
    charge = Charge("c", "Umfragen", PerUnit(D("0.95")), metric="calls", parameter=ParameterInfo("survey", "value", "Umfrage"))
    events = [UsageEvent(str(i), "calls", utc(2026, 11, 2), {"survey": s}) for i, s in enumerate(["B", "A", "B"])]
    lines = rate(plan_of(charge, metrics=(metric,)), SubscriptionPeriod(NOV, NOV.start), events, AFTER)
    assert [(l.kind.value, l.info, l.amount.minor) for l in lines] == [("usage", None, 285), ("parameter_info", "Umfrage: A, B", 0)]


def test_usage_after_now_is_not_counted_and_no_true_up_before_the_period_ends():
    metric = BillableMetric("calls", Aggregation.COUNT)
    charge = Charge("c", "Calls", PerUnit(D(1)), metric="calls", minimum=D(100))
    events = [UsageEvent("1", "calls", utc(2026, 11, 2)), UsageEvent("2", "calls", utc(2026, 11, 25))]
    plan = plan_of(charge, metrics=(metric,))
    mid = rate(plan, SubscriptionPeriod(NOV, NOV.start), events, utc(2026, 11, 20))
    assert rows(mid) == [("usage", D(1), D(1), 100)]
    end = rate(plan, SubscriptionPeriod(NOV, NOV.start), events, AFTER)
    assert rows(end) == [("usage", D(2), D(1), 200), ("minimum_true_up", D(1), D("98.00"), 9800)]


def test_one_time_charges_bill_in_the_first_period_only_and_ad_hoc_items_when_booked():
    setup = Charge("setup", "Einrichtung", OneTime(D("500.00")))
    assert rows(rated(setup, ctx=SubscriptionPeriod(NOV, utc(2026, 11, 5)))) == [("one_time", D(1), D("500.00"), 50000)]
    assert rated(setup, ctx=SubscriptionPeriod(NOV, utc(2026, 10, 5))) == []
    workshop = OneTimeItem("ws", "Workshop Cloud Compliance", D(1), D("7500.00"))
    licence = OneTimeItem("lic", "User-Lizenz", D(3), D("283.333"))
    lines = rated(ctx=SubscriptionPeriod(NOV, utc(2026, 10, 5), one_time_items=(workshop, licence)))
    assert rows(lines) == [("one_time", D(1), D("7500.00"), 750000), ("one_time", D(3), D("283.333"), 85000)]  # 849.999 -> 850.00


def test_a_bundle_bills_its_package_price_and_lists_what_it_includes():
    bundle = Charge("ed", "Edition Business", Bundle(D("99.00"), ("GRC Cockpit", "Umfragen")))
    lines = rated(bundle)
    assert [(l.kind.value, l.description, l.amount.minor) for l in lines] == [
        ("fee", "Edition Business", 9900), ("parameter_info", "enthalten: GRC Cockpit", 0), ("parameter_info", "enthalten: Umfragen", 0)]


@pytest.mark.parametrize("currency, price, expected_minor", [
    ("EUR", D("0.005"), 1),  # 0.5 cent rounds half up
    ("JPY", D("0.5"), 1),  # no minor unit: 0.5 yen -> 1
    ("KWD", D("0.0005"), 1),  # three decimals: 0.5 fils -> 1
])
def test_amounts_round_to_each_currencys_minor_unit(currency, price, expected_minor):
    lines = rated(Charge("u", "U", PerUnit(price), metric="m"), usage={"m": D(1)}, currency=currency)
    assert lines[0].amount.minor == expected_minor and lines[0].amount.currency == currency


def test_lines_carry_tax_category_rate_product_and_period():
    charge = Charge("x", "Export", FlatFee(D(10)), product="GRC Cockpit", tax_category="Z", tax_rate=D(0))
    line = rated(charge, ctx=SubscriptionPeriod(NOV, utc(2026, 11, 10)))[0]
    assert (line.product, line.tax_category, line.tax_rate, line.period_start, line.period_end) == ("GRC Cockpit", "Z", D(0), utc(2026, 11, 10), NOV.end)


def test_usage_events_before_the_subscription_started_are_ignored():
    metric = BillableMetric("calls", Aggregation.COUNT)
    charge = Charge("c", "Calls", PerUnit(D(1)), metric="calls")
    events = [UsageEvent("1", "calls", utc(2026, 11, 2)), UsageEvent("2", "calls", utc(2026, 11, 12))]
    lines = rate(plan_of(charge, metrics=(metric,)), SubscriptionPeriod(NOV, utc(2026, 11, 10)), events, AFTER)
    assert rows(lines) == [("usage", D(1), D(1), 100)]


def test_time_weighted_storage_in_gb_hours():
    metric = BillableMetric("gb", Aggregation.TIME_WEIGHTED_SUM, "gb")
    charge = Charge("s", "Speicher", PerUnit(D("0.001")), metric="gb")
    events = [UsageEvent("1", "gb", NOV.start, {"gb": "10"}), UsageEvent("2", "gb", NOV.start + timedelta(days=10), {"gb": "20"})]
    lines = rate(plan_of(charge, metrics=(metric,)), SubscriptionPeriod(NOV, NOV.start), events, AFTER)
    # 10 GB x 240 h + 20 GB x 480 h = 12,000 GB-h x 0.001 = 12.00
    assert rows(lines) == [("usage", D(12000), D("0.001"), 1200)]


def test_english_labels_describe_steps_and_caps_in_english():
    from services.billing_factory.domain import ENGLISH
    charge = Charge("g", "Calls", Graduated((Tier(D(10), D(1)), Tier(None, D("0.5")))), metric="m", maximum=D(5))
    lines = rate(plan_of(charge), SubscriptionPeriod(NOV, NOV.start), {"m": D(20)}, AFTER, ENGLISH)
    assert [l.description for l in lines] == ["Calls – Tier 1–10", "Calls – Tier from 11", "Calls – capped at maximum price 5"]


def test_a_summed_parameter_that_is_not_a_number_names_the_event():
    from services.billing_factory.domain import InvalidUsage
    metric = BillableMetric("calls", Aggregation.COUNT)
    charge = Charge("c", "C", PerUnit(D(1)), metric="calls", parameter=ParameterInfo("kwh", "sum"))
    events = [UsageEvent("ok", "calls", utc(2026, 11, 2), {"kwh": "1.5"}), UsageEvent("bad", "calls", utc(2026, 11, 3), {"kwh": "viel"})]
    with pytest.raises(InvalidUsage) as err:
        rate(plan_of(charge, metrics=(metric,)), SubscriptionPeriod(NOV, NOV.start), events, AFTER)
    assert (err.value.event_id, err.value.field) == ("bad", "properties.kwh")


def test_charges_on_the_same_metric_see_the_same_quantities():
    metric = BillableMetric("km", Aggregation.SUM, "km", group_by="class")
    cheap = Charge("a", "A", PerUnit(D("0.10")), metric="km")
    dear = Charge("b", "B", PerUnit(D("1.00")), metric="km")
    events = [UsageEvent("1", "km", utc(2026, 11, 2), {"km": "10", "class": "PKW"}), UsageEvent("2", "km", utc(2026, 11, 3), {"km": "4", "class": "LKW"})]
    lines = rate(plan_of(cheap, dear, metrics=(metric,)), SubscriptionPeriod(NOV, NOV.start), events, AFTER)
    assert [(l.charge_code, l.group_key, l.quantity, l.amount.minor) for l in lines] == [
        ("a", "LKW", D(4), 40), ("a", "PKW", D(10), 100), ("b", "LKW", D(4), 400), ("b", "PKW", D(10), 1000)]
