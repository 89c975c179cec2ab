"""The fast reader of usage messages must read exactly what the contract's pydantic decode reads, and refuse the rest."""

from datetime import datetime, timezone

import orjson
import pytest
from hypothesis import given, settings, strategies as st

from libs.contracts import encode
from libs.contracts.events import UsageAccepted, UsagePaid
from services.billing_factory.app import usage_messages
from services.billing_factory.app.usage_messages import UnreadableUsage, read_usage

_text = st.text(max_size=30)
_value = st.one_of(st.none(), st.booleans(), st.integers(-(2**60), 2**60), st.floats(allow_nan=False), _text)


@settings(max_examples=300, deadline=None)
@given(event_id=_text, sub=_text, customer=_text, metric=_text, digest=_text, tenant=_text,
       ts=st.datetimes(timezones=st.sampled_from([timezone.utc, None])), properties=st.dictionaries(_text, _value, max_size=5),
       trusted=st.booleans())
def test_fast_and_strict_readers_agree(event_id, sub, customer, metric, digest, tenant, ts, properties, trusted):
    fields = {"event_id": event_id, "subscription_id": sub, "customer_id": customer, "metric_code": metric, "timestamp": ts,
              "properties": properties, "payload_hash": digest}
    if trusted:  # as the edge writes it
        from libs.contracts import encode_trusted
        raw = encode_trusted(tenant, "UsageAccepted.v1", fields, "m1")
    else:
        raw = encode(tenant, UsageAccepted.model_construct(**fields), message_id="m1")
    try:
        strict = usage_messages._read_strictly(raw)
    except UnreadableUsage:
        strict = None
    fast = usage_messages._read_common_shape(raw)
    if fast is not None:
        assert fast == strict
    assert (read_usage(raw) if strict is not None else None) == strict


@pytest.mark.parametrize("raw, why", [
    (b"not json", "Invalid JSON"),
    (encode("t1", UsagePaid.model_construct(subscription_id="s", period_start=datetime(2026, 1, 1, tzinfo=timezone.utc))), "UsagePaid"),
    (orjson.dumps({"id": "m", "type": "UsageAccepted.v1", "tenant_id": "t", "occurred_at": "2026-01-01T00:00:00Z",
                   "body": {"event_id": 5, "subscription_id": "s", "customer_id": "c", "metric_code": "m", "timestamp": "2026-01-01T00:00:00Z",
                            "properties": {}, "payload_hash": "h"}}), "event_id"),
    (orjson.dumps({"id": "m", "type": "UsageAccepted.v1", "tenant_id": "t", "occurred_at": "2026-01-01T00:00:00Z",
                   "body": {"event_id": "e", "subscription_id": "s", "customer_id": "c", "metric_code": "m", "timestamp": "2026-01-01T00:00:00Z",
                            "properties": {}, "payload_hash": "h", "extra": 1}}), "extra"),
])
def test_what_the_contract_refuses_is_unreadable_with_a_reason(raw, why):
    with pytest.raises(UnreadableUsage, match=why):
        read_usage(raw)
