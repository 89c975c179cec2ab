"""An invoice run for many customers over the four services, with the invoice factory killed part-way.

What a clerk sees: customers and subscriptions are created through the
public API, one billing run bills them all, and the run's progress
(GET /v1/invoice-runs/{id}) is sampled every second while the invoice
factory renders PDF/A-3 + XML in its process pool and archives to S3. At
about a third of the way the invoice factory is SIGKILLed and restarted;
the run must then finish with every invoice issued once, numbered without a
gap and archived exactly once (checked in PostgreSQL and the document index,
not only through the API). The baseline is a trivial one-page WeasyPrint
render in a pool of the same size, measured in the same run.

Run: deploy/bench.sh, or with the servers up: .venv/bin/python -m bench.invoice_run [customers]
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
from pymongo import MongoClient
from sqlalchemy import create_engine, text

from bench.common import RESULTS, save
from tests.support.cycle import SELLER
from tests.support.processes import cluster_env

KILL_AT = 0.3


def trivial(_: int) -> bytes:
    from weasyprint import HTML

    return HTML(string="<p>Hello</p>").write_pdf()


def baseline_pages_per_second(workers: int, pages: int = 60) -> float:
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(trivial, range(workers)))
        t0 = time.perf_counter()
        list(pool.map(trivial, range(pages)))
        return pages / (time.perf_counter() - t0)


def create_customers(client: httpx.Client, count: int) -> None:
    plan = {"code": "flat", "name": "Flat", "currency": "EUR", "interval": "month",
            "charges": [{"code": "base", "name": "Grundgebühr", "model": "flat_fee", "amount": "10.00"}]}
    assert client.post("/v1/plans", json=plan).status_code == 201
    start = datetime.now(timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)

    def one(i: int) -> None:
        customer = client.post("/v1/customers", json={"external_id": f"c-{i}", "name": f"Kunde {i} GmbH", "street": "Weg 1",
                                                      "postcode": "12345", "city": "Stadt", "country": "DE"})
        assert customer.status_code == 201, customer.text
        sub = client.post("/v1/subscriptions", json={"customer": f"c-{i}", "plan": "flat", "started_at": start.isoformat()})
        assert sub.status_code == 201, sub.text

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(count)))


def sample(client: httpx.Client, run_id: str, t0: float, timeline: list, stop: threading.Event) -> None:
    while not stop.is_set():
        response = client.get(f"/v1/invoice-runs/{run_id}")
        if response.status_code == 200:
            p = response.json()
            timeline.append({"t": round(time.monotonic() - t0, 2), **{k: p[k] for k in ("stage", "issued", "archived", "rejected")}})
        stop.wait(1.0)


def chart(timeline: list, killed_at: float, total: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot([p["t"] for p in timeline], [p["issued"] for p in timeline], label="issued (numbered)")
    ax.plot([p["t"] for p in timeline], [p["archived"] for p in timeline], label="rendered + archived")
    ax.axvline(killed_at, color="red", linestyle="--", label="invoice factory SIGKILLed")
    ax.axhline(total, color="grey", linewidth=0.5)
    ax.set_xlabel("seconds since the billing run started")
    ax.set_ylabel("invoices")
    ax.set_title(f"Invoice run of {total:,} customers, resumed after a crash")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)


def verify(cluster_id: str, tenant_id: str, run_id: str, total: int) -> dict:
    engine = create_engine(os.environ["CLOUDBILL_PG_URL"])
    with engine.connect() as conn:
        row = conn.execute(text(
            f"SELECT count(*) n, count(DISTINCT number) numbers, count(*) FILTER (WHERE archived) archived, "
            f"min(number) first, max(number) last FROM invoice_{cluster_id}.invoices WHERE tenant_id = :t AND billing_run_id = :r"),
            {"t": tenant_id, "r": run_id}).one()
    engine.dispose()
    with MongoClient(os.environ["CLOUDBILL_MONGO_URL"]) as mongo:
        docs = mongo[f"cloudbill_{cluster_id}"]["documents"]
        indexed = docs.count_documents({"tenant_id": tenant_id})
        distinct_keys = len(docs.distinct("key", {"tenant_id": tenant_id}))
    checks = {"invoices": row.n, "distinct_numbers": row.numbers, "archived": row.archived, "first": row.first, "last": row.last,
              "indexed_documents": indexed, "distinct_archive_keys": distinct_keys}
    expected = {"invoices": total, "distinct_numbers": total, "archived": total, "first": "RE-000001", "last": f"RE-{total:06d}",
                "indexed_documents": 2 * total, "distinct_archive_keys": 2 * total}
    checks["ok"] = all(checks[k] == v for k, v in expected.items())
    return checks


def main(total: int) -> None:
    workers = os.cpu_count() or 2
    baseline = baseline_pages_per_second(workers)
    cluster_id = uuid.uuid4().hex[:8]
    cluster = cluster_env(Path(tempfile.mkdtemp(prefix="invoice-run-")), cluster_id)
    try:
        cluster.start()
        tenant = httpx.post(f"{cluster.edge_url}/v1/tenants", json={"name": "Bench GmbH"},
                            headers={"X-Cloudbill-Admin-Token": cluster.admin_token}, timeout=30).json()
        with httpx.Client(base_url=cluster.edge_url, headers={"Authorization": f"Bearer {tenant['api_key']}"}, timeout=600,
                          limits=httpx.Limits(max_connections=16)) as client:
            assert client.put("/v1/invoice-settings", json=SELLER).status_code == 200
            t_setup = time.perf_counter()
            create_customers(client, total)
            setup_s = time.perf_counter() - t_setup
            next_month = (datetime.now(timezone.utc).replace(day=1) + timedelta(days=32)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            t0, t_run = time.monotonic(), datetime.now(timezone.utc)
            run = client.post("/v1/billing-runs", json={"as_of": next_month.isoformat()})
            assert run.status_code in (201, 202), run.text  # 202: the billing factory's run worker bills the rest in chunks
            run_id = run.json()["id"]
            timeline: list = []
            stop = threading.Event()
            sampler = threading.Thread(target=sample, args=(client, run_id, t0, timeline, stop), daemon=True)
            sampler.start()
            while not timeline or timeline[-1]["archived"] < KILL_AT * total:  # also waits for the billing run's first chunks
                time.sleep(0.2)
            invoice_factory = cluster.services["invoice_factory"]
            killed_at = time.monotonic() - t0
            archived_at_kill = timeline[-1]["archived"]
            invoice_factory.kill()
            invoice_factory.start()
            invoice_factory.wait_ready()
            while timeline[-1]["stage"] != "completed":
                time.sleep(0.5)
            done_s = time.monotonic() - t0
            billed = client.get(f"/v1/billing-runs/{run_id}").json()
            billing_s = (datetime.fromisoformat(billed["completed_at"]) - t_run).total_seconds()
            stop.set()
            sampler.join()
        checks = verify(cluster_id, tenant["id"], run_id, total)
    finally:
        cluster.stop()
    rate = total / done_s
    chart(timeline, killed_at, total, RESULTS / "invoice_run.png")
    summary = (f"invoice run: {total:,} customers billed, issued, rendered (PDF/A-3 + CII) and archived to S3 in {done_s:.0f} s "
               f"= {rate:.1f} invoices/s end to end with {workers} render processes, the invoice factory SIGKILLed at "
               f"{archived_at_kill:,} archived and resumed; checks (gap-free, each archived once): {'passed' if checks['ok'] else 'FAILED'}; "
               f"baseline trivial one-page PDF in the same pool: {baseline:.1f}/s; setup of customers took {setup_s:.0f} s")
    save("invoice_run", {"customers": total, "render_processes": workers, "seconds": done_s, "invoices_per_second": rate,
                         "billing_run_seconds": billing_s, "killed_at_seconds": killed_at, "archived_at_kill": archived_at_kill,
                         "baseline_trivial_pages_per_second": baseline, "checks": checks, "timeline": timeline}, summary)
    if not checks["ok"]:
        raise SystemExit(f"invoice run checks failed: {checks}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
