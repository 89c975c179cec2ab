"""The raw Kafka path over four processes: batch messages beside old single-event messages on one usage topic, and the
edge's cache of usage targets, which must never outlive a change made through the edge.

The edge here remembers targets for an hour, so only the invalidation (not the expiry) can make the second half of
the cache test pass.
"""

import asyncio
import json
import os
from datetime import datetime, timezone

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import create_engine, text

from libs.contracts import encode_trusted
from services.interface_layer.domain.usage import fingerprint
from tests.e2e.conftest import started_cluster
from tests.support.cycle import ok, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with started_cluster(tmp_path_factory.mktemp("cluster"), {"CLOUDBILL_EDGE_USAGE_TARGET_CACHE_SECONDS": "3600"}) as cl:
        yield cl


@pytest.fixture(scope="module")
def db(cluster):
    engine = create_engine(os.environ["CLOUDBILL_PG_URL"].replace("postgresql://", "postgresql+psycopg://", 1))
    yield engine, cluster.services["billing_factory"].env["CLOUDBILL_BILLING_DATABASE_SCHEMA"]
    engine.dispose()


def topic(cluster, name: str) -> str:
    return cluster.services["interface_layer"].env["CLOUDBILL_EDGE_KAFKA_TOPIC_PREFIX"] + name


def produce(cluster, name: str, messages: list[tuple[bytes | None, bytes]]) -> None:
    async def send():
        producer = AIOKafkaProducer(bootstrap_servers=os.environ["CLOUDBILL_KAFKA_BOOTSTRAP"], acks="all")
        await producer.start()
        try:
            for key, value in messages:
                await producer.send_and_wait(topic(cluster, name), value, key=key)
        finally:
            await producer.stop()

    asyncio.run(send())


def produce_raw(cluster, tenant_id: str, events: list[dict]) -> None:
    produce(cluster, "cloudbill.usage.raw.v1", [(tenant_id.encode(), json.dumps({**e, "tenant_id": tenant_id}).encode()) for e in events])


def stored(db, tenant_id: str, prefix: str) -> dict[str, tuple[str, str]]:
    engine, schema = db
    with engine.connect() as conn:
        rows = conn.execute(text(f'SELECT event_id, subscription_id, properties::text FROM "{schema}".usage_events '
                                 "WHERE tenant_id = :t AND event_id LIKE :p"), {"t": tenant_id, "p": prefix + "%"}).all()
    return {e: (s, json.loads(p)["kwh"]) for e, s, p in rows}


def dead_letters(cluster, needle: bytes) -> list[dict]:
    async def read():
        consumer = AIOKafkaConsumer(topic(cluster, "cloudbill.usage.dead-letter.v1"), bootstrap_servers=os.environ["CLOUDBILL_KAFKA_BOOTSTRAP"],
                                    auto_offset_reset="earliest", group_id=None)
        await consumer.start()
        try:
            found = []
            for _ in range(6):
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    found += [json.loads(r.value) for r in records if needle in r.value]
            return found
        finally:
            await consumer.stop()

    return asyncio.run(read())


@pytest.fixture(scope="module")
def tenant(cluster):
    created = httpx.post(f"{cluster.edge_url}/v1/tenants", json={"name": "Batch GmbH"}, headers={"X-Cloudbill-Admin-Token": cluster.admin_token}, timeout=30)
    assert created.status_code == 201, created.text
    with httpx.Client(base_url=cluster.edge_url, headers={"Authorization": f"Bearer {created.json()['api_key']}"}, timeout=60) as client:
        client.tenant_id = created.json()["id"]
        ok(client.post("/v1/metrics", json={"code": "kwh", "name": "kWh", "aggregation": "sum", "field": "kwh"}), 201)
        for plan in ("p1", "p2"):
            ok(client.post("/v1/plans", json={"code": plan, "name": plan, "charges": [
                {"code": "e", "name": "Strom", "model": "per_unit", "metric": "kwh", "unit_price": "0.30"}]}), 201)
        yield client


def event(event_id: str, customer: str, kwh: str, ts: str) -> dict:
    return {"event_id": event_id, "customer": customer, "metric": "kwh", "timestamp": ts, "properties": {"kwh": kwh}}


def test_old_single_event_messages_and_batch_messages_on_one_topic_are_each_recorded_once(cluster, tenant, db):
    c = tenant
    customer = ok(c.post("/v1/customers", json={"external_id": "mixed-meter", "name": "Mixed"}), 201)
    sub = ok(c.post("/v1/subscriptions", json={"customer": "mixed-meter", "plan": "p1", "started_at": "2026-01-01T00:00:00Z"}), 201)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    ts = now.isoformat()
    # what an edge before UsageAcceptedBatch.v1 left in the topic: one UsageAccepted.v1 per event, keyed by subscription
    old = []
    for i in range(5):
        props = {"kwh": str(i + 1)}
        body = {"event_id": f"mix-o{i}", "subscription_id": sub["id"], "customer_id": customer["id"], "metric_code": "kwh",
                "timestamp": now, "properties": props, "payload_hash": fingerprint("mixed-meter", "kwh", now, props)}
        old.append((sub["id"].encode(), encode_trusted(c.tenant_id, "UsageAccepted.v1", body, f"usage:{c.tenant_id}:mix-o{i}")))
    produce(cluster, "cloudbill.usage.v1", old)
    # then the raw path (which now writes batch messages): three plain repeats of old events, one reused id with
    # another payload, twenty new events
    raw = [event(f"mix-o{i}", "mixed-meter", str(i + 1), ts) for i in range(3)]
    raw.append(event("mix-o3", "mixed-meter", "99", ts))
    raw += [event(f"mix-n{i}", "mixed-meter", "2", ts) for i in range(20)]
    produce_raw(cluster, c.tenant_id, raw)

    rows = wait_for(lambda: (r := stored(db, c.tenant_id, "mix-")) and len(r) == 25 and r, "the 25 distinct events")
    assert {e: kwh for e, (_, kwh) in rows.items() if e.startswith("mix-o")} == {f"mix-o{i}": str(i + 1) for i in range(5)}
    assert {s for s, _ in rows.values()} == {sub["id"]}
    summary = wait_for(lambda: (s := ok(c.get(f"/v1/customers/{customer['id']}/usage-summary")))["events"] == 25 and s, "the summary")
    assert summary["events"] == 25
    letters = wait_for(lambda: dead_letters(cluster, b"mix-o3"), "the conflicting duplicate's dead letter")
    assert any("conflicting duplicate" in letter["body"]["reason"] for letter in letters)


def test_a_subscription_changed_through_the_edge_gets_the_usage_at_once_although_the_edge_caches_targets(cluster, tenant, db):
    c = tenant
    ts = datetime.now(timezone.utc).isoformat()
    # a customer unknown at first: refused (dead-lettered), and not remembered as unknown
    produce_raw(cluster, c.tenant_id, [event("cache-early", "cache-meter", "1", ts)])
    assert wait_for(lambda: dead_letters(cluster, b"cache-early"), "the unknown customer's dead letter")
    ok(c.post("/v1/customers", json={"external_id": "cache-meter", "name": "Cache"}), 201)
    first = ok(c.post("/v1/subscriptions", json={"customer": "cache-meter", "plan": "p1", "started_at": "2026-01-01T00:00:00Z"}), 201)
    produce_raw(cluster, c.tenant_id, [event(f"cache-a{i}", "cache-meter", "1", ts) for i in range(10)])
    rows = wait_for(lambda: (r := stored(db, c.tenant_id, "cache-a")) and len(r) == 10 and r, "usage on the first subscription")
    assert {s for s, _ in rows.values()} == {first["id"]}  # the edge now remembers this target (for an hour)

    ok(c.post(f"/v1/subscriptions/{first['id']}/cancel", json={}))
    second = ok(c.post("/v1/subscriptions", json={"customer": "cache-meter", "plan": "p2", "started_at": "2026-01-01T00:00:00Z"}), 201)
    produce_raw(cluster, c.tenant_id, [event(f"cache-b{i}", "cache-meter", "1", ts) for i in range(10)])
    rows = wait_for(lambda: (r := stored(db, c.tenant_id, "cache-b")) and len(r) == 10 and r, "usage after the change")
    assert {s for s, _ in rows.values()} == {second["id"]}
    assert stored(db, c.tenant_id, "cache-early") == {}
