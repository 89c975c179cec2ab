"""The raw consumer reads the common message shape with msgspec (`raw_usage_fast.read_common`) and everything else with
pydantic's core (`RAW_USAGE_ROW`). msgspec may only narrow the work: whatever it reads, pydantic reads alike (the same
values, the same instant at the same offset, the same property types), and whatever pydantic refuses it leaves alone."""

from datetime import datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import given, settings, strategies as st
from pydantic import ValidationError

from services.interface_layer.entrypoints.raw_usage_fast import read_common
from services.interface_layer.entrypoints.raw_consumer import read_batch
from services.interface_layer.entrypoints.schemas import RAW_USAGE_ROW
from libs.platform.bus.port import Message

_id = st.one_of(st.from_regex(r"\A[A-Za-z0-9._:\-]{1,12}\Z"), st.sampled_from(["", "a b", "x\n", "é", "a" * 201, "a" * 200, "ten_1"]))
_metric = st.one_of(st.from_regex(r"\A[a-z0-9_.\-]{1,8}\Z"), st.sampled_from(["KWh", "", "k" * 101, "k" * 100]))
_zone = st.sampled_from([timezone.utc, timezone(timedelta(hours=-3, minutes=-30)), timezone(timedelta(hours=14)), None])
_stamp = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), timezones=_zone).map(datetime.isoformat),
    st.datetimes(timezones=_zone).map(lambda d: d.isoformat().replace("+00:00", "Z")),
    st.sampled_from(["2026-11-23T12:00:00Z", "2026-11-23t12:00:00z", "2026-11-23 12:00:00Z", "2026-11-23T12:00Z",
                     "2026-11-23T12:00:00.1234567Z", "2026-11-23T12:00:00.Z", "2026-11-23T24:00:00Z", "2026-11-23T12:00:60Z",
                     "2026-02-30T12:00:00Z", "0000-01-01T00:00:00Z", "2026-11-23T12:00:00+24:00", "2026-11-23T12:00:00+23:59",
                     "2026-11-23T12:00:00-00:00", "2026-11-23T12:00:00+0100", "2026-11-23", "1795000000", "", "yesterday"]),
    st.integers(0, 2**33), st.floats(0, 2e9))
_value = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=6), st.lists(st.integers(), max_size=2))
_properties = st.one_of(st.dictionaries(st.one_of(st.text(max_size=8), st.sampled_from(["", "p" * 100, "p" * 101])), _value, max_size=3),
                        st.lists(st.integers(), max_size=1), st.none())
_message = st.fixed_dictionaries(
    {"tenant_id": _id, "event_id": _id, "customer": _id, "metric": _metric, "timestamp": _stamp},
    optional={"properties": _properties, "subscription": st.one_of(st.none(), _id), "extra": st.integers()})


def _encoded(message: dict) -> bytes:
    try:
        return orjson.dumps(message)
    except TypeError:  # an integer beyond 64 bits: orjson does not write it
        import json
        return json.dumps(message).encode()


def _same(a, b) -> bool:
    """Equal and of the same types all the way down (1, 1.0 and True compare equal in Python)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and a != a:
        return b != b
    return a == b


@settings(max_examples=1500, deadline=None)
@given(message=_message, mangle=st.sampled_from([None, None, None, "drop", "nan"]))
def test_what_msgspec_reads_pydantic_reads_alike(message, mangle):
    raw = _encoded(message)
    if mangle == "drop":
        raw = raw.replace(b'"metric"', b'"metrik"')
    elif mangle == "nan":
        raw = raw.replace(b'"properties":{', b'"properties":{"q":NaN,', 1)
    fast = read_common(raw)
    try:
        row = RAW_USAGE_ROW.validate_json(raw)
    except ValidationError:
        assert fast is None
        return
    if fast is None:
        return  # pydantic alone decides: the slow path, not a difference
    tenant, event = fast
    assert tenant == row["tenant_id"]
    assert (event.event_id, event.customer, event.metric, event.subscription) == (
        row["event_id"], row["customer"], row["metric"], row.get("subscription"))
    assert event.timestamp == row["timestamp"] and event.timestamp.utcoffset() == row["timestamp"].utcoffset()
    assert event.timestamp.isoformat() == row["timestamp"].isoformat()  # what the fingerprint writes
    assert _same(event.properties, row.get("properties", {}))


def test_the_common_shape_takes_the_fast_path_and_the_rest_the_slow_one():
    good = {"tenant_id": "ten_1", "event_id": "e-1", "customer": "meter-7", "metric": "kwh", "timestamp": "2026-11-23T12:00:00.5+01:00",
            "properties": {"kwh": "1.5", "n": 2}}
    tenant, event = read_common(orjson.dumps(good))
    assert tenant == "ten_1" and event.timestamp == datetime(2026, 11, 23, 11, 0, 0, 500000, tzinfo=timezone.utc)
    assert event.properties == {"kwh": "1.5", "n": 2} and event.subscription is None
    for other in ({**good, "timestamp": "2026-11-23T12:00:00"}, {**good, "timestamp": 1795000000}, {**good, "unit": "kWh"},
                  {**good, "event_id": "a b"}, {**good, "event_id": "e-1\n"}, {**good, "properties": {"": 1}},
                  {**good, "properties": {"p" * 101: 1}}, {**good, "metric": "k" * 101}, {**good, "subscription": ""}):
        assert read_common(orjson.dumps(other)) is None
    assert read_common(orjson.dumps({**good, "properties": {"p" * 100: 1}, "metric": "k" * 100, "subscription": "s" * 200})) is not None


@pytest.mark.parametrize("bad, field", [({"metric": "KWh"}, "metric"), ({"timestamp": "2026-13-01T00:00:00Z"}, "timestamp"),
                                        ({"unit": "kWh"}, "unit")])
def test_a_message_only_pydantic_reads_is_dead_lettered_with_its_reason(bad, field):
    good = {"tenant_id": "ten_1", "event_id": "e-1", "customer": "meter-7", "metric": "kwh", "timestamp": "2026-11-23T12:00:00Z"}
    messages = [Message("raw", None, orjson.dumps(good), 0, 0), Message("raw", None, orjson.dumps({**good, **bad}), 0, 1)]
    by_tenant, malformed = read_batch(messages)
    assert [e.event_id for e in by_tenant["ten_1"][0]] == ["e-1"]
    (_key, _original, reason, detail), = malformed
    assert reason == "malformed usage message" and detail[0]["field"] == field
