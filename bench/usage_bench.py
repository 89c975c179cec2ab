"""Usage ingestion over the real servers: REST batches accepted durably per second, and how fast the billing
factory records them (deduplicated, in PostgreSQL), beside raw aiokafka produce and consume rates of the same
payloads on the same broker in the same run.

Run against deploy/local/stack.sh servers: .venv/bin/python -m bench.usage_bench
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.common import save
from tests.support.processes import cluster_env

EVENTS = 40_000
BATCH = 1000
CLIENTS = 4


async def raw_kafka_baseline(payloads: list[bytes]) -> tuple[float, float]:
    topic = f"bench-raw-{uuid.uuid4().hex[:8]}"
    producer = AIOKafkaProducer(bootstrap_servers=os.environ["CLOUDBILL_KAFKA_BOOTSTRAP"], acks="all", linger_ms=5, max_batch_size=256 * 1024)
    await producer.start()
    t0 = time.perf_counter()
    futures = [await producer.send(topic, p) for p in payloads]
    await asyncio.gather(*futures)
    produce_s = time.perf_counter() - t0
    await producer.stop()
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=os.environ["CLOUDBILL_KAFKA_BOOTSTRAP"], auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    seen, t0 = 0, time.perf_counter()
    while seen < len(payloads):
        batch = await consumer.getmany(timeout_ms=500, max_records=5000)
        seen += sum(len(v) for v in batch.values())
    consume_s = time.perf_counter() - t0
    await consumer.stop()
    return len(payloads) / produce_s, len(payloads) / consume_s


async def post_all(url: str, key: str, batches: list[list[dict]]) -> float:
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
        queue = list(batches)

        async def worker():
            while queue:
                batch = queue.pop()
                response = await client.post("/v1/usage/batch", json={"events": batch})
                assert response.status_code == 202, response.text

        t0 = time.perf_counter()
        await asyncio.gather(*[worker() for _ in range(CLIENTS)])
        return time.perf_counter() - t0


def main() -> None:
    cluster = cluster_env(Path(tempfile.mkdtemp(prefix="usage-bench-")))
    for name in ("billing_factory", "invoice_factory", "payment_factory", "interface_layer"):
        cluster.services[name].start()
    try:
        for svc in cluster.services.values():
            svc.wait_ready()
        base = cluster.edge_url
        tenant = httpx.post(f"{base}/v1/tenants", json={"name": "Bench"}, headers={"X-Cloudbill-Admin-Token": cluster.admin_token}).json()
        h = {"Authorization": f"Bearer {tenant['api_key']}"}
        httpx.post(f"{base}/v1/customers", json={"external_id": "meter-1", "name": "Meter GmbH"}, headers=h).raise_for_status()
        httpx.post(f"{base}/v1/metrics", json={"code": "kwh", "name": "kWh", "aggregation": "sum", "field": "kwh"}, headers=h).raise_for_status()
        httpx.post(f"{base}/v1/plans", headers=h, json={"code": "p", "name": "P", "charges": [
            {"code": "e", "name": "Strom", "model": "per_unit", "metric": "kwh", "unit_price": "0.30"}]}).raise_for_status()
        httpx.post(f"{base}/v1/subscriptions", headers=h, json={"customer": "meter-1", "plan": "p", "started_at": "2026-01-01T00:00:00Z"}).raise_for_status()
        customer_id = httpx.get(f"{base}/v1/customers/meter-1", headers=h).json()["id"]
        now = datetime.now(timezone.utc).isoformat()
        events = [{"event_id": f"e{i}", "customer": "meter-1", "metric": "kwh", "timestamp": now, "properties": {"kwh": "0.5"}} for i in range(EVENTS)]
        batches = [events[i:i + BATCH] for i in range(0, EVENTS, BATCH)]
        t0 = time.perf_counter()
        rest_s = asyncio.run(post_all(base, tenant["api_key"], batches))
        while httpx.get(f"{base}/v1/customers/{customer_id}/usage-summary", headers=h).json()["events"] < EVENTS:
            time.sleep(0.2)
        recorded_s = time.perf_counter() - t0
        produce, consume = asyncio.run(raw_kafka_baseline([json.dumps(e).encode() for e in events]))
    finally:
        cluster.stop()
    summary = (f"usage REST: {EVENTS / rest_s:,.0f} events/s accepted durably ({CLIENTS} clients, batches of {BATCH}); "
               f"recorded deduplicated in PostgreSQL: {EVENTS / recorded_s:,.0f} events/s end to end; baseline raw aiokafka on the same broker: "
               f"produce {produce:,.0f}/s, consume {consume:,.0f}/s; targets: REST >= 20,000/s, Kafka path >= 50,000/s")
    save("usage", {"events": EVENTS, "rest_events_per_second": EVENTS / rest_s, "recorded_events_per_second": EVENTS / recorded_s,
                   "baseline_raw_produce_per_second": produce, "baseline_raw_consume_per_second": consume,
                   "targets": {"rest": 20000, "kafka": 50000}}, summary)


if __name__ == "__main__":
    main()
