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
    ({"kwh": "-1"}, "properties.kwh"),
    ({"kwh": "-0.5"}, "properties.kwh"),
    ({"kwh": "1e16"}, "properties.kwh"),
    ({"kwh": 10**16}, "properties.kwh"),
    ({"kwh": [1, 2]}, "properties.kwh"),
    ({"note": "x" * 501}, "properties.note"),
])
def test_bad_property_values_are_named(props, field):
    assert [f for f, _ in problems(props=props)] == [field]


def test_labels_and_quantities_in_range_pass():
    assert problems(props={"kwh": "0.5", "zero": "0", "meter": "Zähler 7", "phase": "L1", "on": True, "n": 3}) == []


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


from hypothesis import given, settings, strategies as st  # noqa: E402

from services.interface_layer.domain.usage import canonical_fingerprint, fingerprint  # noqa: E402

_ascii = st.text(st.characters(max_codepoint=127), max_size=20)  # the fast path's domain; any text reaches the other
_texts = st.one_of(_ascii, st.text(max_size=20))
_offsets = st.timedeltas(min_value=-timedelta(hours=23, minutes=59, seconds=59), max_value=timedelta(hours=23, minutes=59, seconds=59))
_values = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(allow_nan=False, allow_infinity=False), _texts)


@settings(max_examples=400, deadline=None)
@given(customer=_texts, metric=_texts, properties=st.dictionaries(_texts, _values, max_size=6),
       ts=st.one_of(st.datetimes(timezones=st.one_of(st.just(timezone.utc), _offsets.map(timezone))), st.datetimes()))
def test_the_fast_fingerprint_is_the_canonical_one(customer, metric, properties, ts):
    """Duplicates are judged by fingerprint across versions and edges: the orjson path must hash the stdlib's bytes."""
    assert fingerprint(customer, metric, ts, properties) == canonical_fingerprint(customer, metric, ts, properties)
