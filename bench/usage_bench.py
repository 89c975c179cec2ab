"""Usage ingestion over the real servers (four service processes, Kafka, PostgreSQL, FerretDB), two paths:

- REST: 4 clients post batches of 1,000 events for 100 meters; "accepted" is the rate of 202 answers (each one
  after Kafka acknowledged the batch with acks=all); "recorded" is the rate until every event is stored
  deduplicated in the billing factory's PostgreSQL (counted there).
- Kafka: a backlog of raw events is produced to the raw usage topic while the edge is stopped, then the edge is
  started and the time until all of them are recorded (validated and resolved by the edge, forwarded keyed by
  subscription, deduplicated into PostgreSQL by the billing factory) gives the end-to-end rate.

Both run long enough to show a sustained rate, not a burst (the issue asks for a minute): by default 2,400,000 REST
events and a backlog of 3,600,000 raw events, each a minute or more at the targets' rates on this machine. The recorded count is sampled
every quarter second; the slowest and fastest 10-second window of each run are reported beside the average.

Baselines from the same run on the same broker: aiokafka producing and consuming the same payloads raw.
CPU seconds per 1,000 events are read from /proc for each service process. Results: bench/results/usage.{json,txt,png}.
Run against deploy/local/stack.sh servers: .venv/bin/python -m bench.usage_bench
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import create_engine, text

from bench.common import USAGE_LOG_WHERE, USAGE_LOG_WORKER, process_cpu_seconds, save, server_cpu_seconds
from tests.support.processes import cluster_env

METERS = 100
REST_EVENTS = int(os.environ.get("USAGE_BENCH_REST_EVENTS", "2400000"))
KAFKA_EVENTS = int(os.environ.get("USAGE_BENCH_KAFKA_EVENTS", "3600000"))
WINDOW_SECONDS = 10
BATCH = 1000
CLIENTS = 4
def event(prefix: str, i: int, now: str) -> dict:
    return {"event_id": f"{prefix}-{i}", "customer": f"meter-{i % METERS}", "metric": "kwh", "timestamp": now, "properties": {"kwh": "0.5"}}


async def produce(topic: str, payloads: list[bytes], keys: list[bytes] | None = None) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=os.environ["CLOUDBILL_KAFKA_BOOTSTRAP"], acks="all", linger_ms=5, max_batch_size=256 * 1024)
    await producer.start()
    try:
        t0 = time.perf_counter()
        futures = [await producer.send(topic, p, key=keys[i] if keys else None) for i, p in enumerate(payloads)]
        await asyncio.gather(*futures)
        return len(payloads) / (time.perf_counter() - t0)
    finally:
        await producer.stop()


async def consume_rate(topic: str, count: int) -> float:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=os.environ["CLOUDBILL_KAFKA_BOOTSTRAP"], auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    try:
        seen, t0 = 0, time.perf_counter()
        while seen < count:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            seen += sum(len(v) for v in batch.values())
        return count / (time.perf_counter() - t0)
    finally:
        await consumer.stop()


async def post_all(url: str, key: str, events: int, now: str) -> float:
    """Post `events` REST events in batches of BATCH from CLIENTS clients; each batch is built when it is sent (a
    minute's worth of event dicts held at once would take gigabytes)."""
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}", "content-type": "application/json"}, timeout=120) as client:
        starts = iter(range(0, events, BATCH))

        async def worker():
            for start in starts:
                batch = [event("r", i, now) for i in range(start, min(start + BATCH, events))]
                response = await client.post("/v1/usage/batch", content=orjson.dumps({"events": batch}))
                assert response.status_code == 202, response.text

        t0 = time.perf_counter()
        await asyncio.gather(*[worker() for _ in range(CLIENTS)])
        return time.perf_counter() - t0


def wait_recorded(engine, schema: str, tenant_id: str, expected: int, t0: float, timeline: list) -> float:
    """Seconds from t0 until `expected` events of the tenant are stored, sampling the count into `timeline`.

    Progress is read from PostgreSQL's insert counter of the table (the run's schema holds only this tenant): an
    exact count(*) over millions of rows every quarter second took CPU from the pipeline it measures. The counter
    trails by up to about a second (backends report it then), so the last 3% and the end are counted exactly."""
    inserted = text("SELECT n_tup_ins FROM pg_stat_user_tables WHERE schemaname = :s AND relname = 'usage_events'")
    exact = text(f'SELECT count(*) FROM "{schema}".usage_events WHERE tenant_id = :t')
    while True:
        with engine.connect() as conn:
            n = conn.execute(inserted, {"s": schema}).scalar() or 0
            if n >= 0.97 * expected:
                n = conn.execute(exact, {"t": tenant_id}).scalar()
        timeline.append((round(time.perf_counter() - t0, 2), n))
        if n >= expected:
            return time.perf_counter() - t0
        time.sleep(0.25)


def windows(timeline: list, seconds: int = WINDOW_SECONDS) -> dict:
    """The slowest and fastest rate over `seconds`-long windows of a (seconds, recorded) timeline, the last partial
    window left out; empty when the run was shorter than one window."""
    rates = []
    for i, (t0, n0) in enumerate(timeline):
        later = [(t, n) for t, n in timeline[i:] if t - t0 >= seconds]
        if not later:
            break
        t1, n1 = later[0]
        rates.append((n1 - n0) / (t1 - t0))
    return {"window_seconds": seconds, "slowest_per_second": min(rates), "fastest_per_second": max(rates)} if rates else {}


def main() -> None:
    cluster = cluster_env(Path(tempfile.mkdtemp(prefix="usage-bench-")), usage_log_worker=USAGE_LOG_WORKER)
    engine = create_engine(os.environ["CLOUDBILL_PG_URL"].replace("postgresql://", "postgresql+psycopg://", 1))
    bill = cluster.services["billing_factory"]
    schema = bill.env["CLOUDBILL_BILLING_DATABASE_SCHEMA"]
    edge = cluster.services["interface_layer"]
    try:
        cluster.start()
        base = cluster.edge_url
        tenant = httpx.post(f"{base}/v1/tenants", json={"name": "Bench"}, headers={"X-Cloudbill-Admin-Token": cluster.admin_token}).json()
        h = {"Authorization": f"Bearer {tenant['api_key']}"}
        httpx.post(f"{base}/v1/metrics", json={"code": "kwh", "name": "kWh", "aggregation": "sum", "field": "kwh"}, headers=h).raise_for_status()
        httpx.post(f"{base}/v1/plans", headers=h, json={"code": "p", "name": "P", "charges": [
            {"code": "e", "name": "Strom", "model": "per_unit", "metric": "kwh", "unit_price": "0.30"}]}).raise_for_status()
        for m in range(METERS):
            httpx.post(f"{base}/v1/customers", json={"external_id": f"meter-{m}", "name": f"Meter {m}"}, headers=h).raise_for_status()
            httpx.post(f"{base}/v1/subscriptions", headers=h, json={"customer": f"meter-{m}", "plan": "p", "started_at": "2026-01-01T00:00:00Z"}).raise_for_status()
        tenant_id = httpx.get(f"{base}/v1/tenants/me", headers=h).json()["id"]

        # REST path
        now = datetime.now(timezone.utc).isoformat()
        cpu0 = {n: process_cpu_seconds(s.proc.pid) for n, s in cluster.services.items()} | server_cpu_seconds()
        t0 = time.perf_counter()
        rest_timeline: list = []
        with concurrent.futures.ThreadPoolExecutor(1) as sampler:  # the recorded count sampled while the clients post
            recorded = sampler.submit(wait_recorded, engine, schema, tenant_id, REST_EVENTS, t0, rest_timeline)
            rest_s = asyncio.run(post_all(base, tenant["api_key"], REST_EVENTS, now))
            rest_recorded_s = recorded.result()
        rest_cpu = {n: (process_cpu_seconds(s.proc.pid) - cpu0[n]) / REST_EVENTS * 1000 for n, s in cluster.services.items()}
        servers = {n: (c - cpu0.get(n, c)) / REST_EVENTS * 1000 for n, c in server_cpu_seconds().items()}

        # Kafka path: a backlog on the raw topic while the edge is down, then the edge drains it
        edge.kill(15)
        edge.proc.wait(30)
        raw_topic = edge.env["CLOUDBILL_EDGE_KAFKA_TOPIC_PREFIX"] + "cloudbill.usage.raw.v1"
        now = datetime.now(timezone.utc).isoformat()
        raw = [orjson.dumps({**event("k", i, now), "tenant_id": tenant_id}) for i in range(KAFKA_EVENTS)]
        produce_rate = asyncio.run(produce(raw_topic, raw, [tenant_id.encode()] * len(raw)))
        edge.start()
        edge.wait_ready()
        cpu0 = {n: process_cpu_seconds(s.proc.pid) for n, s in cluster.services.items()} | server_cpu_seconds()
        t0 = time.perf_counter()
        kafka_timeline: list = []
        kafka_s = wait_recorded(engine, schema, tenant_id, REST_EVENTS + KAFKA_EVENTS, t0, kafka_timeline)
        kafka_cpu = {n: (process_cpu_seconds(s.proc.pid) - cpu0[n]) / KAFKA_EVENTS * 1000 for n, s in cluster.services.items()}
        kafka_servers = {n: (c - cpu0.get(n, c)) / KAFKA_EVENTS * 1000 for n, c in server_cpu_seconds().items()}

        # baselines: the same payloads raw through aiokafka on the same broker
        base_topic = f"bench-raw-{uuid.uuid4().hex[:8]}"
        base_produce = asyncio.run(produce(base_topic, raw))
        base_consume = asyncio.run(consume_rate(base_topic, len(raw)))
    finally:
        cluster.stop()
        engine.dispose()
    result = {
        "meters": METERS, "batch": BATCH, "clients": CLIENTS, "usage_log_in_own_process": USAGE_LOG_WORKER,
        "rest": {"events": REST_EVENTS, "accepted_per_second": REST_EVENTS / rest_s, "recorded_per_second": REST_EVENTS / rest_recorded_s,
                 "recorded_windows": windows(rest_timeline), "recorded_seconds": rest_recorded_s,
                 "cpu_seconds_per_1000_events": rest_cpu, "server_cpu_seconds_per_1000_events": servers, "timeline": rest_timeline},
        "kafka": {"events": KAFKA_EVENTS, "backlog_produced_per_second": produce_rate, "recorded_per_second": KAFKA_EVENTS / kafka_s,
                  "seconds": kafka_s, "recorded_windows": windows(kafka_timeline), "cpu_seconds_per_1000_events": kafka_cpu,
                  "server_cpu_seconds_per_1000_events": kafka_servers, "timeline": kafka_timeline},
        "baseline": {"raw_produce_per_second": base_produce, "raw_consume_per_second": base_consume},
        "targets": {"rest_accepted_per_second": 20000, "kafka_recorded_per_second": 50000},
    }
    cpu_r = sum(rest_cpu.values())
    cpu_k = sum(kafka_cpu.values())
    kw, rw = result["kafka"]["recorded_windows"], result["rest"]["recorded_windows"]
    summary = (f"usage REST: {result['rest']['accepted_per_second']:,.0f} events/s accepted durably over {rest_s:.0f} s ({CLIENTS} clients, batches of {BATCH}, "
               f"{METERS} meters), recorded deduplicated in PostgreSQL at {result['rest']['recorded_per_second']:,.0f}/s end to end"
               + (f" (10-s windows {rw['slowest_per_second']:,.0f}-{rw['fastest_per_second']:,.0f}/s)" if rw else "") + "; "
               f"Kafka path: {KAFKA_EVENTS:,} raw events drained to PostgreSQL at {result['kafka']['recorded_per_second']:,.0f}/s over "
               f"{kafka_s:.0f} s" + (f" (10-s windows {kw['slowest_per_second']:,.0f}-{kw['fastest_per_second']:,.0f}/s)" if kw else "") + "; "
               f"service CPU per 1,000 events: REST {cpu_r:.2f} s, Kafka {cpu_k:.2f} s; servers' CPU per 1,000 events: "
               f"REST {sum(servers.values()):.2f} s ({', '.join(f'{n} {c:.3f}' for n, c in servers.items())}), "
               f"Kafka {sum(kafka_servers.values()):.2f} s ({', '.join(f'{n} {c:.3f}' for n, c in kafka_servers.items())}); baseline raw aiokafka on the "
               f"same broker: produce {base_produce:,.0f}/s, consume {base_consume:,.0f}/s; targets: REST >= 20,000/s, Kafka >= 50,000/s; "
               f"{USAGE_LOG_WHERE}")
    save("usage", result, summary)
    chart(result)


def chart(result: dict) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    for name in ("rest", "kafka"):
        t = result[name]["timeline"]
        start = t[0][1]
        line, = ax.plot([x for x, _ in t], [n - start for _, n in t], label=f"{name}: {result[name]['recorded_per_second']:,.0f}/s recorded")
        target = result["targets"]["rest_accepted_per_second" if name == "rest" else "kafka_recorded_per_second"]
        end = t[-1][0]
        ax.plot([0, end], [0, target * end], linestyle="--", color=line.get_color(), alpha=0.6, label=f"{name} target {target:,}/s")
    ax.set_xlabel("seconds")
    ax.set_ylabel("events recorded")
    ax.legend()
    ax.set_title("usage recorded in PostgreSQL (deduplicated)")
    fig.tight_layout()
    fig.savefig(Path(__file__).parent / "results" / "usage.png")


if __name__ == "__main__":
    main()
