"""The raw usage log in batch documents, on both document stores: redelivery never loses an event nor shows one twice,
and the documents of earlier releases (per event, per subscription bucket) are still read."""

import base64
import json
import uuid
import zlib
from datetime import datetime, timezone

import pytest

from libs.contracts import encode_trusted
from libs.platform.bus.port import Message
from libs.platform.docstore import EmbeddedDocumentStore, MongoDocumentStore
from services.billing_factory.app.rerating import USAGE_LOG_BATCHES, USAGE_LOG_BUCKETS, logged_events
from services.billing_factory.domain import Period
from services.billing_factory.entrypoints.consumers import make_usage_log_handler
from tests.integration.libs.conftest import require_env

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


@pytest.fixture(params=["embedded", "mongo"])
def store(request, tmp_path):
    if request.param == "embedded":
        return EmbeddedDocumentStore(tmp_path / "docs.sqlite3")
    return MongoDocumentStore(require_env("CLOUDBILL_MONGO_URL"), f"test_{uuid.uuid4().hex[:8]}")


def usage(offset: int, sub: str, partition: int = 0) -> Message:
    body = {"event_id": f"e{offset}", "subscription_id": sub, "customer_id": "c1", "metric_code": "kwh",
            "timestamp": T0.replace(hour=offset % 24), "properties": {"kwh": str(offset)}, "payload_hash": f"h{offset}"}
    return Message("cloudbill.usage.v1", sub, encode_trusted("t1", "UsageAccepted.v1", body, f"m{offset}"), partition, offset)


def test_redelivered_batches_cut_anywhere_log_each_event_once(store):
    log = make_usage_log_handler(store)
    stream = [usage(i, "s1" if i % 3 else "s2") for i in range(12)]
    log(stream[:5])  # delivered, but the offset commit was lost:
    log(stream[:5])  # the same batch again,
    log(stream[:8])  # then cut later (more events after a crash),
    log(stream[3:12])  # and from a later offset on.
    period = Period(T0, T0.replace(month=12))
    s1 = [e["event_id"] for e in logged_events(store, "t1", "s1", period)]
    s2 = [e["event_id"] for e in logged_events(store, "t1", "s2", period)]
    assert sorted(s1, key=lambda e: int(e[1:])) == [f"e{i}" for i in range(12) if i % 3]
    assert sorted(s2, key=lambda e: int(e[1:])) == [f"e{i}" for i in range(12) if not i % 3]
    assert store.count(USAGE_LOG_BATCHES, {"tenant_id": "t1"}) == 3  # one per delivery that brought new events, not one per event


def test_one_document_per_partition_whatever_the_number_of_meters(store):
    """A document per subscription cost the document store more the more meters a tenant has (consumers.py)."""
    log = make_usage_log_handler(store, max_events=150)
    log([usage(i, f"meter-{i}", partition=i % 2) for i in range(400)])
    batches = store.find(USAGE_LOG_BATCHES, {"tenant_id": "t1"}, sort=[("partition", 1), ("first_offset", 1)])
    assert [(b["partition"], b["event_count"]) for b in batches] == [(0, 150), (0, 50), (1, 150), (1, 50)]
    assert batches[0]["subscription_ids"] == sorted(f"meter-{i}" for i in range(0, 300, 2))
    period = Period(T0, T0.replace(month=12))
    for i in (0, 7, 298, 399):
        assert [(e["event_id"], e["properties"]) for e in logged_events(store, "t1", f"meter-{i}", period)] == [(f"e{i}", {"kwh": str(i)})]


def test_events_logged_one_per_document_by_earlier_releases_are_still_read_once(store):
    from services.billing_factory.app.rerating import USAGE_LOG
    store.ensure_unique_index(USAGE_LOG, ["tenant_id", "event_id"])
    store.insert_many_ignoring_duplicates(USAGE_LOG, [
        {"tenant_id": "t1", "event_id": "old-1", "subscription_id": "s1", "customer_id": "c1", "metric_code": "kwh",
         "timestamp": T0.isoformat(), "properties": {"kwh": "2"}, "payload_hash": "h", "partition": 0, "offset": 0},
        {"tenant_id": "t1", "event_id": "e1", "subscription_id": "s1", "customer_id": "c1", "metric_code": "kwh",
         "timestamp": T0.replace(hour=1).isoformat(), "properties": {"kwh": "1"}, "payload_hash": "h1", "partition": 0, "offset": 1}])
    make_usage_log_handler(store)([usage(1, "s1"), usage(2, "s1")])
    events = logged_events(store, "t1", "s1", Period(T0, T0.replace(month=12)))
    assert [e["event_id"] for e in events] == ["old-1", "e1", "e2"]


def test_a_batch_keeps_its_events_deflated_and_buckets_of_earlier_releases_are_still_read(store):
    """Nested event documents, and then plain JSON text, cost the document store more CPU (consumers.py)."""
    make_usage_log_handler(store)([usage(1, "s1"), usage(2, "s1"), usage(3, "s9")])
    (batch,) = store.find(USAGE_LOG_BATCHES, {"tenant_id": "t1", "subscription_ids": "s1"})
    assert "events" not in batch and batch["event_count"] == 3 and batch["subscription_ids"] == ["s1", "s9"]
    stored = json.loads(zlib.decompress(base64.b64decode(batch["events_z"])))  # readable without our code: zlib, base64
    assert [(e["event_id"], e["subscription_id"], e["offset"]) for e in stored] == [("e1", "s1", 1), ("e2", "s1", 2), ("e3", "s9", 3)]
    assert stored[0]["timestamp"] == T0.replace(hour=1).isoformat()
    old_events = [{"event_id": "old-5", "customer_id": "c1", "metric_code": "kwh", "timestamp": T0.replace(minute=6).isoformat(),
                   "properties": {"kwh": "5"}, "payload_hash": "h", "offset": 0}]
    store.insert_many_ignoring_duplicates(USAGE_LOG_BUCKETS, [  # a bucket per subscription, as the previous release wrote it
        {"tenant_id": "t1", "subscription_id": "s1", "first_event_id": "old-5", "last_event_id": "old-5", "partition": 0,
         "logged_at": T0.isoformat(), "event_count": 1, "events_z": base64.b64encode(zlib.compress(json.dumps(old_events).encode())).decode()}])
    store.insert_many_ignoring_duplicates(USAGE_LOG_BUCKETS, [  # a bucket as releases with the plain JSON text wrote it
        {"tenant_id": "t1", "subscription_id": "s1", "first_event_id": "old-4", "last_event_id": "old-4", "partition": 0,
         "logged_at": T0.isoformat(), "event_count": 1, "events_json": json.dumps([
             {"event_id": "old-4", "customer_id": "c1", "metric_code": "kwh", "timestamp": T0.replace(minute=5).isoformat(),
              "properties": {"kwh": "4"}, "payload_hash": "h", "offset": 0}])}])
    store.insert_many_ignoring_duplicates(USAGE_LOG_BUCKETS, [  # a bucket as releases before the JSON text wrote it
        {"tenant_id": "t1", "subscription_id": "s1", "first_event_id": "old-3", "last_event_id": "old-3", "partition": 0,
         "logged_at": T0.isoformat(), "events": [{"event_id": "old-3", "customer_id": "c1", "metric_code": "kwh",
                                                  "timestamp": T0.isoformat(), "properties": {"kwh": "3"}, "payload_hash": "h", "offset": 0}]}])
    events = logged_events(store, "t1", "s1", Period(T0, T0.replace(month=12)))
    assert [(e["event_id"], e["properties"]) for e in events] == [("old-3", {"kwh": "3"}), ("old-4", {"kwh": "4"}), ("old-5", {"kwh": "5"}),
                                                                  ("e1", {"kwh": "1"}), ("e2", {"kwh": "2"})]
