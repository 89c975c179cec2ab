"""The billing cycle over four processes, with usage produced to Kafka by a plain Kafka client."""

import asyncio
import json
import os

import boto3
import pymongo
from aiokafka import AIOKafkaProducer
from botocore.config import Config

from services.billing_factory.app.rerating import bucket_events
from tests.support.cycle import pdf_text, run_cycle, wait_for

pytestmark = [__import__("pytest").mark.e2e]


def produce_raw(cluster, tenant_id: str, events: list[dict]) -> None:
    topic = cluster.services["interface_layer"].env["CLOUDBILL_EDGE_KAFKA_TOPIC_PREFIX"] + "cloudbill.usage.raw.v1"

    async def send():
        producer = AIOKafkaProducer(bootstrap_servers=os.environ["CLOUDBILL_KAFKA_BOOTSTRAP"], acks="all")
        await producer.start()
        try:
            for e in events:
                await producer.send_and_wait(topic, json.dumps({**e, "tenant_id": tenant_id}).encode(), key=tenant_id.encode())
        finally:
            await producer.stop()

    asyncio.run(send())


def test_cycle_over_four_processes_with_kafka_usage_s3_archive_and_mongo_index(cluster, tenant_client):
    result = run_cycle(tenant_client, send_usage=lambda events: produce_raw(cluster, tenant_client.tenant_id, events))
    inv = result.invoice
    assert (inv["net_minor"], inv["tax_minor"], inv["gross_minor"]) == (5050, 960, 6010)
    assert inv["number"] in pdf_text(result.pdf)
    assert result.account_before["balance_minor"] == -6010 and result.account_after["balance_minor"] == 0
    rules = os.environ.get("CLOUDBILL_RULES_DIR")
    if rules:  # the archived e-invoice passes the XSD and the CEN EN 16931 rules
        from pathlib import Path

        from services.invoice_factory.adapters.validation import validate

        assert [f for f in validate(result.xml, "zugferd", Path(rules)) if f.flag != "warning"] == []

    env = cluster.services["invoice_factory"].env
    docs = tenant_client.get("/v1/documents", params={"number": inv["number"]}).json()
    assert {d["kind"] for d in docs} == {"pdf", "xml"}
    s3 = boto3.client("s3", endpoint_url=env["CLOUDBILL_INVOICE_S3_ENDPOINT"], aws_access_key_id=env["CLOUDBILL_INVOICE_S3_ACCESS_KEY"],
                      aws_secret_access_key=env["CLOUDBILL_INVOICE_S3_SECRET_KEY"], region_name="us-east-1",
                      config=Config(s3={"addressing_style": "path"}))
    pdf_doc = next(d for d in docs if d["kind"] == "pdf")
    assert pdf_doc["key"].startswith(tenant_client.tenant_id + "/")
    stored = s3.get_object(Bucket=env["CLOUDBILL_INVOICE_S3_BUCKET"], Key=pdf_doc["key"])
    assert stored["Body"].read() == result.pdf
    assert s3.get_object_retention(Bucket=env["CLOUDBILL_INVOICE_S3_BUCKET"], Key=pdf_doc["key"])["Retention"]["Mode"] == "COMPLIANCE"

    mongo = pymongo.MongoClient(os.environ["CLOUDBILL_MONGO_URL"])[cluster.services["billing_factory"].env["CLOUDBILL_BILLING_MONGO_DATABASE"]]
    def logged() -> set[str]:
        return {e["event_id"] for b in mongo.usage_log_batches.find({"tenant_id": tenant_client.tenant_id}) for e in bucket_events(b)}

    wait_for(lambda: len(logged()) == 30, "the raw usage log in the document store")


def test_invalid_raw_kafka_message_is_dead_lettered_and_does_not_block(cluster, tenant_client):
    before = tenant_client.get("/v1/customers").json()
    produce_raw(cluster, tenant_client.tenant_id, [{"event_id": "bad-1", "customer": "nobody", "metric": "nothing", "timestamp": "2026-11-23T00:00:00Z"}])
    # the dead letter carries the reason; the partition keeps flowing (the cycle test above used the same topic)
    from aiokafka import AIOKafkaConsumer

    topic = cluster.services["interface_layer"].env["CLOUDBILL_EDGE_KAFKA_TOPIC_PREFIX"] + "cloudbill.usage.dead-letter.v1"

    async def read():
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=os.environ["CLOUDBILL_KAFKA_BOOTSTRAP"], auto_offset_reset="earliest", group_id=None)
        await consumer.start()
        try:
            for _ in range(50):
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for r in records:
                        if b"bad-1" in r.value:
                            return json.loads(r.value)
        finally:
            await consumer.stop()

    letter = asyncio.run(read())
    assert letter is not None and letter["body"]["reason"] == "invalid usage event"
    assert any(d["field"] == "customer" or d["field"] == "metric" for d in letter["body"]["detail"])
    assert tenant_client.get("/v1/customers").json() == before


def test_rest_usage_repeat_is_harmless_and_a_changed_payload_is_a_409_over_postgresql(cluster, tenant_client):
    """The edge asks the billing factory (PostgreSQL, one array parameter) which ids were stored with another payload."""
    from datetime import datetime, timezone

    c = tenant_client
    assert c.post("/v1/customers", json={"external_id": "dup-meter", "name": "Dup GmbH"}).status_code == 201
    assert c.post("/v1/metrics", json={"code": "dup_kwh", "name": "kWh", "aggregation": "sum", "field": "kwh"}).status_code == 201
    assert c.post("/v1/plans", json={"code": "dup", "name": "Dup", "charges": [
        {"code": "e", "name": "Strom", "model": "per_unit", "metric": "dup_kwh", "unit_price": "0.30"}]}).status_code == 201
    assert c.post("/v1/subscriptions", json={"customer": "dup-meter", "plan": "dup", "started_at": "2026-01-01T00:00:00Z"}).status_code == 201
    now = datetime.now(timezone.utc).isoformat()
    events = [{"event_id": f"dup-{i}", "customer": "dup-meter", "metric": "dup_kwh", "timestamp": now, "properties": {"kwh": "2"}} for i in range(40)]
    assert c.post("/v1/usage/batch", json={"events": events}).status_code == 202
    customer_id = c.get("/v1/customers/dup-meter").json()["id"]
    wait_for(lambda: c.get(f"/v1/customers/{customer_id}/usage-summary").json()["events"] == 40, "the 40 events recorded")
    assert c.post("/v1/usage/batch", json={"events": events[:10]}).status_code == 202  # a plain repeat
    changed = [{**events[3], "properties": {"kwh": "3"}}, {**events[5], "properties": {"kwh": "9"}}, {**events[0], "event_id": "dup-new"}]
    refused = c.post("/v1/usage/batch", json={"events": changed})
    assert refused.status_code == 409, refused.text
    assert sorted(e["index"] for e in refused.json()["errors"]) == [0, 1]
    assert all(e["field"] == "event_id" for e in refused.json()["errors"])
    assert c.get(f"/v1/customers/{customer_id}/usage-summary").json()["events"] == 40  # nothing of the refused batch stored
