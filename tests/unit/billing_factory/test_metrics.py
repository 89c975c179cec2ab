"""Metric aggregations over usage events, worked out by hand."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal as D

import pytest

from services.billing_factory.domain import Aggregation, BillableMetric, InvalidUsage, UsageEvent, aggregate, aggregate_groups

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
END = T0 + timedelta(days=30)


def ev(i, hours, **props):
    return UsageEvent(f"e{i}", "m", T0 + timedelta(hours=hours), props)


# values 3 @0h, 5 @1h, 3 @2h, and one event before the window (9) and one after it (7)
EVENTS = [ev(0, -1, v="9"), ev(1, 0, v="3"), ev(2, 1, v=5), ev(3, 2, v=D(3)), ev(4, 24 * 30, v="7")]


@pytest.mark.parametrize("aggregation, expected", [
    (Aggregation.COUNT, D(3)),  # three events inside [T0, END)
    (Aggregation.SUM, D(11)),  # 3 + 5 + 3
    (Aggregation.MAX, D(5)),
    (Aggregation.UNIQUE_COUNT, D(2)),  # {3, 5}
    (Aggregation.LATEST, D(3)),  # the value at 2h
])
def test_aggregations(aggregation, expected):
    assert aggregate(BillableMetric("m", aggregation, "v"), EVENTS, T0, END) == expected


@pytest.mark.parametrize("events, end, expected", [
    # 10 GB for 2 h, then 4 GB for 1 h = 24 GB-h
    ([ev(1, 0, gb="10"), ev(2, 2, gb="4")], T0 + timedelta(hours=3), D(24)),
    # 8 GB set before the window is held from T0: 8 x 1 h + 2 x 1 h = 10
    ([ev(0, -5, gb="8"), ev(1, 1, gb="2")], T0 + timedelta(hours=2), D(10)),
    # half an hour at 3 GB = 1.5
    ([ev(1, 0, gb="3")], T0 + timedelta(minutes=30), D("1.5")),
    # no events: nothing held
    ([], T0 + timedelta(hours=5), D(0)),
])
def test_time_weighted_sum_holds_each_value_until_the_next_event(events, end, expected):
    assert aggregate(BillableMetric("m", Aggregation.TIME_WEIGHTED_SUM, "gb"), events, T0, end) == expected


def test_without_a_field_the_event_quantity_is_summed():
    events = [UsageEvent("a", "m", T0, {}, D("1.5")), UsageEvent("b", "m", T0, {}, D("2"))]
    assert aggregate(BillableMetric("m", Aggregation.SUM), events, T0, END) == D("3.5")


def test_decimals_round_the_aggregate_half_up():
    events = [ev(1, 0, v="0.125"), ev(2, 1, v="1")]
    assert aggregate(BillableMetric("m", Aggregation.SUM, "v", decimals=2), events, T0, END) == D("1.13")


def test_grouping_gives_one_quantity_per_value_and_drops_empty_groups():
    metric = BillableMetric("m", Aggregation.SUM, "km", group_by="region")
    events = [ev(1, 0, km="10", region="EU"), ev(2, 1, km="5", region="US"), ev(3, 2, km="2", region="EU"), ev(4, 3, km="0", region="APAC")]
    assert aggregate_groups(metric, events, T0, END) == {"EU": D(12), "US": D(5)}


def test_a_value_that_is_not_a_number_names_the_event_and_field():
    with pytest.raises(InvalidUsage) as err:
        aggregate(BillableMetric("m", Aggregation.SUM, "v"), [ev(7, 0, v="abc")], T0, END)
    assert (err.value.event_id, err.value.field) == ("e7", "properties.v")


def test_floats_are_refused_as_usage_values():
    with pytest.raises(InvalidUsage):
        aggregate(BillableMetric("m", Aggregation.SUM, "v"), [ev(1, 0, v=0.1)], T0, END)
