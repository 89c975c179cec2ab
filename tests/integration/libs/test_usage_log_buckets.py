"""The raw usage log in batch documents, on both document stores: redelivery never loses an event nor shows one twice,
and the documents of earlier releases (per event, per subscription bucket) are still read."""

import base64
import json
import uuid
import zlib
from datetime import datetime, timezone

import pytest
import zstandard

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


def test_a_batch_keeps_its_messages_compressed_and_documents_of_earlier_releases_are_still_read(store):
    """Nested event documents, then plain JSON text, then deflated JSON cost the document store or the writer more
    CPU (consumers.py, rerating.pack_logged_messages)."""
    make_usage_log_handler(store)([usage(1, "s1"), usage(2, "s1"), usage(3, "s9")])
    (batch,) = store.find(USAGE_LOG_BATCHES, {"tenant_id": "t1", "subscription_ids": "s1"})
    assert "events" not in batch and batch["event_count"] == 3 and batch["subscription_ids"] == ["s1", "s9"]
    stored = json.loads(zstandard.ZstdDecompressor().decompress(base64.b64decode(batch["messages_zst"])))  # readable with zstd and base64
    assert [(m["offset"], [(e["event_id"], e["subscription_id"]) for e in m["events"]]) for m in stored] == [
        (1, [("e1", "s1")]), (2, [("e2", "s1")]), (3, [("e3", "s9")])]
    assert stored[0]["events"][0]["timestamp"] == T0.replace(hour=1).isoformat()  # the text sent
    deflated = [{"event_id": "old-6", "subscription_id": "s1", "customer_id": "c1", "metric_code": "kwh",
                 "timestamp": T0.replace(minute=7).isoformat(), "properties": {"kwh": "6"}, "payload_hash": "h", "offset": 0}]
    store.insert_many_ignoring_duplicates(USAGE_LOG_BATCHES, [  # a batch as the previous release wrote it: deflated events
        {"tenant_id": "t1", "partition": 0, "first_event_id": "old-6", "last_event_id": "old-6", "first_offset": 0, "last_offset": 0,
         "event_count": 1, "logged_at": T0.isoformat(), "subscription_ids": ["s1"],
         "events_z": base64.b64encode(zlib.compress(json.dumps(deflated).encode())).decode()}])
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
                                                                  ("old-6", {"kwh": "6"}), ("e1", {"kwh": "1"}), ("e2", {"kwh": "2"})]


def test_batch_messages_are_logged_whole_and_an_empty_one_is_skipped(store):
    """A document holds whole messages: cut before the message that would take it beyond max_events."""
    def batch(offset: int, first: int, count: int) -> Message:
        events = [{"event_id": f"e{i}", "subscription_id": f"s{i % 7}", "customer_id": "c1", "metric_code": "kwh",
                   "timestamp": T0.replace(minute=i % 60), "properties": {"kwh": "1"}, "payload_hash": f"h{i}"} for i in range(first, first + count)]
        return Message("cloudbill.usage.v1", None, encode_trusted("t1", "UsageAcceptedBatch.v1", {"events": events}, f"b{offset}"), 0, offset)

    make_usage_log_handler(store, max_events=150)([batch(10, 0, 100), batch(11, 100, 0), batch(12, 100, 100), batch(13, 200, 40)])
    batches = store.find(USAGE_LOG_BATCHES, {"tenant_id": "t1"}, sort=[("first_offset", 1)])
    assert [(b["first_offset"], b["last_offset"], b["first_event_id"], b["last_event_id"], b["event_count"]) for b in batches] == [
        (10, 10, "e0", "e99", 100), (12, 13, "e100", "e239", 140)]
    period = Period(T0, T0.replace(month=12))
    assert sorted(int(e["event_id"][1:]) for s in range(7) for e in logged_events(store, "t1", f"s{s}", period)) == list(range(240))
