from datetime import datetime, timedelta, timezone

import pytest

from services.interface_layer.domain.usage import check_event, fingerprint

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
FUT, AGE = timedelta(minutes=5), timedelta(days=62)


def problems(ts=NOW, props=None):
    return [(p.field, p.message) for p in check_event(0, ts, props or {}, NOW, FUT, AGE)]


@pytest.mark.parametrize("props, field", [
    ({"kwh": float("nan")}, "properties.kwh"),
    ({"kwh": float("inf")}, "properties.kwh"),
    ({"kwh": "NaN"}, "properties.kwh"),
    ({"kwh": -1}, "properties.kwh"),
    ({"kwh": 10**16}, "properties.kwh"),
    ({"kwh": [1, 2]}, "properties.kwh"),
    ({"note": "x" * 501}, "properties.note"),
])
def test_bad_property_values_are_named(props, field):
    assert [f for f, _ in problems(props=props)] == [field]


@pytest.mark.parametrize("ts, ok", [
    (NOW, True), (NOW + timedelta(minutes=4), True), (NOW + timedelta(minutes=6), False),
    (NOW - timedelta(days=61), True), (NOW - timedelta(days=63), False), (datetime(2026, 11, 23, 12, 0), False),
])
def test_timestamp_window(ts, ok):
    assert (problems(ts=ts) == []) is ok


def test_fingerprint_is_stable_under_key_order_and_changes_with_payload():
    a = fingerprint("c", "m", NOW, {"a": 1, "b": "x"})
    assert a == fingerprint("c", "m", NOW, {"b": "x", "a": 1})
    assert a != fingerprint("c", "m", NOW, {"a": 2, "b": "x"})
    assert a != fingerprint("c", "m", NOW + timedelta(seconds=1), {"a": 1, "b": "x"})
