"""Prepaid consumption over the four services: device authorization latency and event-to-balance latency.

Authorization: sequential `POST /v1/wallets/{customer}/authorizations` through
the public edge (API key, proxy hop, ledger hold in PostgreSQL), p50/p99,
beside two floors measured in the same run: the payment factory's
`/health` over HTTP, and the edge answering an authenticated
`GET /v1/tenants/me` (no factory behind it). These timed calls go over one
keep-alive connection of the standard library's http.client (see KeepAlive).

Event to balance: usage batches for a prepaid subscription sent at a steady
rate through the REST edge; for each batch the time from "202 accepted" to
the wallet's available balance showing its cost (edge -> Kafka -> billing
factory records and rates -> outbox -> Kafka -> payment factory debits).
Measured twice: alone, and under load, while LOAD_CLIENTS clients send
batches of LOAD_BATCH events for LOAD_METERS postpaid meters, together at
LOAD_RATE events/s (the target's 10,000; 0: as fast as the edge accepts them);
the background rate reached is reported.

Results: bench/results/prepaid.{json,txt,png}. Run: deploy/bench.sh, or with the servers up: .venv/bin/python -m bench.prepaid_bench
"""

from __future__ import annotations

import http.client
import os
import statistics
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import orjson

from bench.common import USAGE_LOG_WHERE, USAGE_LOG_WORKER, cpu_seconds, process_cpu_seconds, save, server_cpu_seconds
from tests.support.cycle import SELLER
from tests.support.processes import cluster_env

AUTHORIZATIONS, BATCHES, EVENTS_PER_BATCH, BATCH_INTERVAL = 500, 60, 100, 0.25
LOADED_BATCHES = int(os.environ.get("PREPAID_BENCH_LOADED_BATCHES", "60"))
LOAD_CLIENTS, LOAD_BATCH, LOAD_METERS = 4, 1000, 100
# The probe asks for the wallet every POLL_SECONDS while it waits: a latency is known to within that plus one GET. Each GET
# costs the edge and the payment factory a few ms of CPU, so polling back to back (5 ms, before session 9) took a
# quarter of this two-core machine away from the pipeline it measures.
POLL_SECONDS = float(os.environ.get("PREPAID_BENCH_POLL_SECONDS", "0.02"))
JSON = {"content-type": "application/json"}
LOAD_RATE = int(os.environ.get("PREPAID_BENCH_LOAD_RATE", "10000"))  # background events/s the clients aim at; 0: as fast as accepted


def background_meters(c: httpx.Client, suffix: str) -> list[str]:
    """Postpaid meters on the same plan: their usage is recorded and rated like the prepaid meter's, but debits no wallet."""
    start = datetime.now(timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    meters = []
    for i in range(LOAD_METERS):
        external = f"bg-{suffix}-{i}"
        assert c.post("/v1/customers", json={"external_id": external, "name": f"Haushalt {i}", "street": "Weg 1", "postcode": "12345",
                                             "city": "Stadt"}).status_code == 201
        assert c.post("/v1/subscriptions", json={"customer": external, "plan": "strom", "started_at": start.isoformat()}).status_code == 201
        meters.append(external)
    return meters


def under_load(edge_url: str, api_key: str, meters: list[str], suffix: str, probe) -> tuple[list[float], float, float]:
    """`probe()` while LOAD_CLIENTS clients send usage batches for the background meters, together at LOAD_RATE events/s
    (the target's rate; a client that falls behind sends back to back), or back to back when LOAD_RATE is 0.

    Returns the probe's latencies and rate, and the background events per second the edge accepted meanwhile."""
    stop, sent = threading.Event(), [0] * LOAD_CLIENTS

    def load(worker: int) -> None:
        with httpx.Client(base_url=edge_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=120) as lc:
            b, interval, next_at = 0, (LOAD_CLIENTS * LOAD_BATCH / LOAD_RATE if LOAD_RATE else 0.0), time.perf_counter()
            while not stop.is_set():
                next_at += interval
                now = datetime.now(timezone.utc).isoformat()
                events = [{"event_id": f"bg-{suffix}-{worker}-{b}-{i}", "customer": meters[(b * LOAD_BATCH + i) % len(meters)],
                           "metric": "kwh", "timestamp": now} for i in range(LOAD_BATCH)]
                response = lc.post("/v1/usage/batch", content=orjson.dumps({"events": events}), headers=JSON)
                assert response.status_code == 202, response.text
                sent[worker] += LOAD_BATCH
                b += 1
                time.sleep(max(0.0, next_at - time.perf_counter()))

    threads = [threading.Thread(target=load, args=(w,), daemon=True) for w in range(LOAD_CLIENTS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(3)  # let the load settle before probing
    try:
        latencies, rate = probe()
    finally:
        stop.set()
        for t in threads:
            t.join()
    return latencies, rate, sum(sent) / (time.perf_counter() - t0)


class KeepAlive:
    """The timed calls' client: one keep-alive connection through the standard library's http.client.

    A device's HTTP stack is not ours to measure. httpx's synchronous client spent about 1 ms of the bench's own CPU
    (and so of every sample's wall time) per call here, http.client about 0.3 ms; the floors below are timed with it
    too. A connection the server closed after its keep-alive timeout (5 s idle) is opened again and the call repeated;
    that time counts in the sample. The timed phases call back to back, well within the timeout."""

    def __init__(self, base_url: str, headers: dict[str, str]):
        parts = urlsplit(base_url)
        self._host, self._port, self._headers = parts.hostname, parts.port, headers
        self._conn = http.client.HTTPConnection(self._host, self._port, timeout=60)

    def call(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> "KeepAlive.Answer":
        try:
            return self._once(method, path, body, headers)
        except (http.client.RemoteDisconnected, ConnectionError):  # closed by the server while idle: once more, afresh
            self._conn.close()
            return self._once(method, path, body, headers)

    def _once(self, method: str, path: str, body: bytes | None, headers: dict[str, str] | None) -> "KeepAlive.Answer":
        self._conn.request(method, path, body=body, headers={**self._headers, **(headers or {})})
        response = self._conn.getresponse()
        return KeepAlive.Answer(response.status, response.read())

    def close(self) -> None:
        self._conn.close()

    class Answer:
        def __init__(self, status_code: int, content: bytes):
            self.status_code, self.content = status_code, content

        @property
        def text(self) -> str:
            return self.content.decode(errors="replace")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed_calls(call, n: int) -> list[float]:
    samples = []
    for i in range(n):
        t0 = time.perf_counter()
        response = call(i)
        samples.append((time.perf_counter() - t0) * 1000)
        assert response.status_code < 300, response.text
    return samples


def summary(samples: list[float]) -> dict:
    return {"p50_ms": statistics.median(samples), "p90_ms": percentile(samples, 90), "p99_ms": percentile(samples, 99), "max_ms": max(samples),
            "n": len(samples)}


def main() -> None:
    cluster = cluster_env(Path(tempfile.mkdtemp(prefix="prepaid-bench-")), usage_log_worker=USAGE_LOG_WORKER)
    try:
        cluster.start()
        tenant = httpx.post(f"{cluster.edge_url}/v1/tenants", json={"name": "Stadtwerke Bench"},
                            headers={"X-Cloudbill-Admin-Token": cluster.admin_token}, timeout=30).json()
        payment = f"http://127.0.0.1:{cluster.services['payment_factory'].port}"
        internal = {"X-Cloudbill-Internal-Token": cluster.services["payment_factory"].env["CLOUDBILL_PAYMENT_INTERNAL_TOKEN"],
                    "X-Cloudbill-Tenant": tenant["id"]}
        with httpx.Client(base_url=cluster.edge_url, headers={"Authorization": f"Bearer {tenant['api_key']}"}, timeout=60) as c, \
                httpx.Client(base_url=payment, timeout=60) as direct:
            assert c.put("/v1/invoice-settings", json=SELLER).status_code == 200
            suffix = uuid.uuid4().hex[:6]
            customer = c.post("/v1/customers", json={"external_id": f"meter-{suffix}", "name": "Haushalt", "street": "Weg 1",
                                                     "postcode": "12345", "city": "Stadt"}).json()
            assert c.post("/v1/metrics", json={"code": "kwh", "name": "kWh", "aggregation": "count"}).status_code == 201
            assert c.post("/v1/plans", json={"code": "strom", "name": "Strom", "currency": "EUR", "interval": "month", "charges": [
                {"code": "kwh", "name": "Arbeitspreis", "model": "per_unit", "metric": "kwh", "unit_price": "0.30"}]}).status_code == 201
            start = datetime.now(timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            sub = c.post("/v1/subscriptions", json={"customer": customer["external_id"], "plan": "strom", "started_at": start.isoformat()}).json()
            assert c.put(f"/v1/subscriptions/{sub['id']}/prepaid").status_code == 200
            cid = customer["id"]
            assert c.post(f"/v1/accounts/{cid}/wallet/top-ups", json={"amount": "1000000.00", "currency": "EUR"},
                          headers={"Idempotency-Key": "top-up"}).status_code == 201

            device = KeepAlive(cluster.edge_url, {"Authorization": f"Bearer {tenant['api_key']}", **JSON})
            straight = KeepAlive(payment, {**internal, **JSON})
            asked = orjson.dumps({"amount": "0.01", "currency": "EUR", "ttl_seconds": 60})
            for _ in range(20):  # warm connections and caches
                device.call("GET", "/v1/tenants/me")
                straight.call("GET", "/health")
            floor_health = timed_calls(lambda i: straight.call("GET", "/health"), AUTHORIZATIONS)
            floor_edge = timed_calls(lambda i: device.call("GET", "/v1/tenants/me"), AUTHORIZATIONS)
            direct_auth = timed_calls(lambda i: straight.call("POST", f"/v1/wallets/{cid}/authorizations", asked, {"Idempotency-Key": f"direct-{i}"}),
                                      AUTHORIZATIONS)
            auth = timed_calls(lambda i: device.call("POST", f"/v1/wallets/{cid}/authorizations", asked, {"Idempotency-Key": f"auth-{i}"}),
                               AUTHORIZATIONS)
            device.close()
            straight.close()

            def available() -> int:
                return c.get(f"/v1/wallets/{cid}").json()["available_minor"]

            def probe(batches: int, tag: str) -> tuple[list[float], float]:
                """Batches for the prepaid meter at a steady pace; per batch, 202 -> the wallet shows its cost."""
                latencies, sent = [], 0
                t_start = time.perf_counter()
                for b in range(batches):
                    before = available()
                    now = datetime.now(timezone.utc).isoformat()
                    events = [{"event_id": f"{suffix}-{tag}-{b}-{i}", "customer": customer["external_id"], "metric": "kwh", "timestamp": now}
                              for i in range(EVENTS_PER_BATCH)]
                    accepted = c.post("/v1/usage/batch", json={"events": events})
                    t_accepted = time.perf_counter()
                    assert accepted.status_code == 202, accepted.text
                    sent += EVENTS_PER_BATCH
                    while available() >= before:
                        time.sleep(POLL_SECONDS)
                        if time.perf_counter() - t_accepted > 60:
                            raise SystemExit("the wallet did not change within 60 s")
                    latencies.append((time.perf_counter() - t_accepted) * 1000)
                    time.sleep(max(0.0, BATCH_INTERVAL - (time.perf_counter() - t_accepted)))
                return latencies, sent / (time.perf_counter() - t_start)

            latencies, rate = probe(BATCHES, "quiet")
            meters = background_meters(c, suffix)
            cpu0, t0 = {n: process_cpu_seconds(s.proc.pid) for n, s in cluster.services.items()}, time.perf_counter()
            cpu0["bench (load and probe clients)"] = cpu_seconds()
            servers0 = server_cpu_seconds()
            loaded, loaded_rate, background_rate = under_load(cluster.edge_url, tenant["api_key"], meters, suffix, lambda: probe(LOADED_BATCHES, "loaded"))
            seconds = time.perf_counter() - t0
            loaded_cores = {n: (process_cpu_seconds(s.proc.pid) - cpu0[n]) / seconds for n, s in cluster.services.items()}
            loaded_cores["bench (load and probe clients)"] = (cpu_seconds() - cpu0["bench (load and probe clients)"]) / seconds
            loaded_cores.update({n: (c - servers0.get(n, c)) / seconds for n, c in server_cpu_seconds().items()})
    finally:
        cluster.stop()
    timed = {"authorization": auth, "authorization_direct_to_payment_factory": direct_auth, "floor_payment_health": floor_health,
             "floor_edge_authenticated_get": floor_edge}
    result = {**{name: {**summary(samples), "samples_ms": [round(x, 3) for x in samples]} for name, samples in timed.items()},
              "event_to_balance": {**summary(latencies), "events_per_second_sent": rate, "events_per_batch": EVENTS_PER_BATCH},
              "event_to_balance_under_load": {**summary(loaded), "samples_ms": [round(x) for x in loaded], "probe_events_per_second": loaded_rate,
                                              "background_events_per_second_accepted": background_rate,
                                              "background_clients": LOAD_CLIENTS, "background_batch": LOAD_BATCH, "background_meters": len(meters),
                                              "background_target_events_per_second": LOAD_RATE, "poll_seconds": POLL_SECONDS,
                                              "cores_used": loaded_cores,
                                              "cpu_seconds_per_1000_events": {n: c * 1000 / (background_rate + loaded_rate)
                                                                              for n, c in loaded_cores.items()}},
              "usage_log_in_own_process": USAGE_LOG_WORKER, "authorization_client": "http.client, one keep-alive connection",
              "targets": {"authorization_p99_ms": 10, "event_to_balance_p99_ms": 1000, "at_events_per_second": 10_000}}
    text = (f"prepaid: authorization through the edge p50 {result['authorization']['p50_ms']:.1f} ms, p99 {result['authorization']['p99_ms']:.1f} ms "
            f"(target p99 < 10 ms); the same straight to the payment factory (no edge): p50 {result['authorization_direct_to_payment_factory']['p50_ms']:.1f} ms, "
            f"p99 {result['authorization_direct_to_payment_factory']['p99_ms']:.1f} ms; floors in the same run: payment /health p99 {result['floor_payment_health']['p99_ms']:.1f} ms, "
            f"edge authenticated GET p99 {result['floor_edge_authenticated_get']['p99_ms']:.1f} ms. Event to balance visible: "
            f"p50 {result['event_to_balance']['p50_ms']:.0f} ms, p99 {result['event_to_balance']['p99_ms']:.0f} ms at {rate:,.0f} events/s "
            f"in batches of {EVENTS_PER_BATCH}; under load (REST batches of {LOAD_BATCH} for {len(meters)} postpaid meters from "
            f"{LOAD_CLIENTS} clients at {background_rate:,.0f} events/s accepted, "
            f"{f'paced at {LOAD_RATE:,}/s' if LOAD_RATE else 'as fast as the edge takes them'}): "
            f"p50 {result['event_to_balance_under_load']['p50_ms']:.0f} ms, p99 {result['event_to_balance_under_load']['p99_ms']:.0f} ms "
            f"(target p99 < 1 s at 10,000 events/s), polling the wallet every {POLL_SECONDS * 1000:.0f} ms; cores used meanwhile: "
            + ", ".join(f"{n} {c:.2f}" for n, c in loaded_cores.items()) + f"; {USAGE_LOG_WHERE}")
    save("prepaid", result, text)
    chart(result)


def chart(result: dict) -> None:
    """bench/results/prepaid.png: the authorization latencies as distributions beside their floors, and event to
    balance per probe batch, quiet and under the background load."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for name, label in (("authorization", "authorization through the edge"), ("authorization_direct_to_payment_factory", "straight to the payment factory"),
                        ("floor_edge_authenticated_get", "floor: edge authenticated GET"), ("floor_payment_health", "floor: payment /health")):
        ordered = sorted(result[name]["samples_ms"])
        left.plot(ordered, [100 * (i + 1) / len(ordered) for i in range(len(ordered))], label=f"{label} (p99 {result[name]['p99_ms']:.1f} ms)")
    left.axvline(result["targets"]["authorization_p99_ms"], color="grey", linestyle="--", linewidth=1)
    left.axhline(99, color="grey", linestyle=":", linewidth=1)
    left.set_xscale("log")
    left.set_xlabel("ms (log)")
    left.set_ylabel("% of calls at most")
    left.set_title("authorization: target p99 < 10 ms")
    left.legend(fontsize=7)
    loaded = result["event_to_balance_under_load"]
    right.plot(range(1, len(loaded["samples_ms"]) + 1), loaded["samples_ms"], marker=".",
               label=f"under {loaded['background_events_per_second_accepted']:,.0f} events/s (p99 {loaded['p99_ms']:.0f} ms)")
    right.axhline(result["targets"]["event_to_balance_p99_ms"], color="grey", linestyle="--", linewidth=1)
    right.set_xlabel("probe batch")
    right.set_ylabel("ms from 202 to the wallet showing it")
    right.set_title(f"event to balance (quiet: p99 {result['event_to_balance']['p99_ms']:.0f} ms)")
    right.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(Path(__file__).parent / "results" / "prepaid.png")


if __name__ == "__main__":
    main()
