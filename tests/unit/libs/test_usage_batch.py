"""UsageAcceptedBatch.v1: what the edge packs, the billing factory reads back event for event, beside old single messages."""

import json
from datetime import datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import given, settings, strategies as st

from libs.contracts import encode, encode_trusted
from libs.contracts.events import UsageAccepted, UsageAcceptedBatch, UsageEventBody
from libs.contracts.usage_batch import pack
from services.billing_factory.app import usage_messages
from services.billing_factory.app.usage_messages import UnreadableUsage, UsageMessage, read_usage_bodies, read_usages

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def body(i: int, sub: str = "sub_1", **changes) -> dict:
    return {"event_id": f"e{i}", "subscription_id": sub, "customer_id": "cus_1", "metric_code": "kwh",
            "timestamp": T0 + timedelta(seconds=i), "properties": {"kwh": str(i)}, "payload_hash": f"h{i}", **changes}


def as_logged(raw: bytes) -> list[UsageMessage]:
    """What the raw log reads of a message (`read_usage_bodies`: bodies as sent), as `read_usages` answers it."""
    tenant, bodies = read_usage_bodies(raw)
    return [as_read(tenant, {**b, "timestamp": datetime.fromisoformat(b["timestamp"])}) for b in bodies]


def as_read(tenant: str, b: dict) -> UsageMessage:
    return UsageMessage(tenant, b["event_id"], b["subscription_id"], b["customer_id"], b["metric_code"], b["timestamp"],
                        b["properties"], b["payload_hash"])


def test_a_pack_per_partition_keeps_each_partitions_order_and_reads_back_event_for_event():
    placed = [(i % 3, body(i, f"sub_{i % 3}")) for i in range(50)]
    packs = pack("ten_1", placed, T0, max_events=7)
    assert all(orjson.loads(m)["type"] == "UsageAcceptedBatch.v1" for _, m in packs)
    for partition in range(3):
        read = [e for p, m in packs if p == partition for e in read_usages(m)]
        assert read == [as_read("ten_1", b) for p, b in placed if p == partition]  # nothing lost, added or reordered
        assert all(len(read_usages(m)) <= 7 for p, m in packs if p == partition)


def test_a_pack_stays_under_its_byte_limit_and_a_single_message_still_reads_as_one_event():
    big = [(0, body(i, properties={"note": "x" * 400})) for i in range(100)]
    packs = pack("ten_1", big, T0, max_bytes=4096)
    assert len(packs) > 10 and all(len(m) <= 4096 + 300 for _, m in packs)  # the envelope around the events is small
    assert [e for _, m in packs for e in read_usages(m)] == [as_read("ten_1", b) for _, b in big]
    single = encode_trusted("ten_1", "UsageAccepted.v1", body(7), "m7")
    assert read_usages(single) == [as_read("ten_1", body(7))] == as_logged(single)
    assert [e for _, m in packs for e in as_logged(m)] == [as_read("ten_1", b) for _, b in big]


def test_the_pack_is_what_the_contract_model_reads():
    (_, message), = pack("ten_1", [(0, body(1)), (0, body(2))], T0)
    env = orjson.loads(message)
    model = UsageAcceptedBatch.model_validate(env["body"])
    assert [e.event_id for e in model.events] == ["e1", "e2"] and env["tenant_id"] == "ten_1"
    assert set(UsageEventBody.model_fields) == set(UsageAccepted.model_fields) - {"TYPE"}


_text = st.text(max_size=12)
_value = st.one_of(st.none(), st.booleans(), st.integers(-(2**60), 2**60), st.floats(allow_nan=False), _text)


@settings(max_examples=200, deadline=None)
@given(events=st.lists(st.fixed_dictionaries({
    "event_id": _text, "subscription_id": _text, "customer_id": _text, "metric_code": _text, "payload_hash": _text,
    "timestamp": st.datetimes(timezones=st.sampled_from([timezone.utc, None])),
    "properties": st.dictionaries(_text, _value, max_size=3)}), min_size=1, max_size=4), trusted=st.booleans())
def test_fast_and_strict_batch_readers_agree(events, trusted):
    if trusted:
        raw = encode_trusted("ten_1", "UsageAcceptedBatch.v1", {"events": events}, "m1")
    else:
        raw = encode("ten_1", UsageAcceptedBatch.model_construct(events=[UsageEventBody.model_construct(**e) for e in events]), "m1")
    try:
        strict = usage_messages._read_batch_strictly(raw)
    except UnreadableUsage:
        strict = None
    fast = usage_messages._read_batch_shape(orjson.loads(raw))
    if fast is not None:
        assert fast == strict
    if strict is None:
        with pytest.raises(UnreadableUsage):
            read_usages(raw)
        with pytest.raises(UnreadableUsage):
            read_usage_bodies(raw)
    else:
        assert read_usages(raw) == strict
        assert as_logged(raw) == strict  # the log stores the same events, each timestamp as its text


@pytest.mark.parametrize("events, why", [
    ([{**body(1), "timestamp": "2026-11-23T12:00:00Z", "extra": 1}], "extra"),
    ([{**body(1), "timestamp": "2026-11-23T12:00:00Z", "event_id": 5}], "event_id"),
    ("not a list", "events"),
])
def test_a_batch_the_contract_refuses_is_unreadable_whole_with_a_reason(events, why):
    raw = orjson.dumps({"id": "m", "type": "UsageAcceptedBatch.v1", "tenant_id": "t", "occurred_at": "2026-01-01T00:00:00Z",
                        "body": {"events": events}})
    with pytest.raises(UnreadableUsage, match=why):
        read_usages(raw)
    with pytest.raises(UnreadableUsage, match=why):
        read_usage_bodies(raw)


_FIELDS = ["event_id", "subscription_id", "customer_id", "metric_code", "timestamp", "properties", "payload_hash"]
_stamp = st.one_of(st.datetimes(timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=5, minutes=30)), None])).map(datetime.isoformat),
                   st.sampled_from(["2026-11-23T12:00:00Z", "2026-11-23 12:00:00+01:00", "20261123T120000Z", "2026-11-23T12:00:00.1234567Z",
                                    "2026-11-23", "2026-11-23T25:00:00Z", "yesterday", ""]))
_any = st.one_of(_value, st.lists(_value, max_size=2), st.integers(-(2**63), 2**64 - 1))
_contract_event = st.fixed_dictionaries(
    {f: (_stamp if f == "timestamp" else st.dictionaries(_text, _any, max_size=2) if f == "properties" else _text) for f in _FIELDS},
    optional={"extra": _any})  # the contract's shape, or with one field more
_messy_event = st.one_of(_contract_event, _contract_event, _contract_event, _any,
                         st.dictionaries(st.sampled_from(_FIELDS + ["extra"]), st.one_of(_any, _stamp, st.dictionaries(_text, _any, max_size=2)), max_size=8))


@settings(max_examples=500, deadline=None)
@given(events=st.one_of(st.lists(_messy_event, max_size=3), st.lists(_contract_event, max_size=3), _any),
       tenant=st.one_of(st.just("ten_1"), st.just("ten_1"), _any),
       kind=st.sampled_from(["UsageAcceptedBatch.v1", "UsageAcceptedBatch.v1", "UsageAccepted.v1", "Other.v1"]),
       body_extra=st.sampled_from([False, False, True]))
def test_the_msgspec_reading_accepts_refuses_and_reads_exactly_as_the_orjson_reading(events, tenant, kind, body_extra):
    """msgspec decodes the common batch shape in C (usage_messages._BATCH); it must never change what either consumer
    accepts or reads, only how fast: held here against the reading without it, on messages of every shape."""
    body = {"events": events, **({"more": 1} if body_extra else {})}
    raw = orjson.dumps({"id": "m1", "type": kind, "tenant_id": tenant, "occurred_at": T0.isoformat(), "body": body})

    def outcome(read):
        try:
            return read(raw)
        except UnreadableUsage:
            return "unreadable"

    assert outcome(read_usages) == outcome(usage_messages._read_usages_parsed)
    logged, bodies = outcome(usage_messages.read_for_log), outcome(read_usage_bodies)
    if bodies == "unreadable":
        assert logged == "unreadable"
    else:
        assert (logged.tenant_id, orjson.loads(logged.events_json)) == bodies
        assert logged.event_ids == [b["event_id"] for b in bodies[1]]
        assert logged.subscription_ids == {b["subscription_id"] for b in bodies[1]}


def test_an_integer_beyond_64_bits_reads_exactly_where_orjson_made_it_a_float():
    """The one value msgspec reads otherwise: orjson's parse rounds it to a float. The edge refuses such quantities
    (domain/usage.py MAX_QUANTITY), so only another producer could send one; it is now stored as sent."""
    big = 2**70 + 1
    event = {**body(1), "timestamp": T0.isoformat(), "properties": {"n": big}}
    raw = json.dumps({"id": "m1", "type": "UsageAcceptedBatch.v1", "tenant_id": "ten_1", "occurred_at": T0.isoformat(),
                      "body": {"events": [event]}}).encode()  # orjson does not write it
    (read,) = read_usages(raw)
    assert read.properties == {"n": big} and type(read.properties["n"]) is int
    assert usage_messages._read_usages_parsed(raw)[0].properties == {"n": float(big)}
