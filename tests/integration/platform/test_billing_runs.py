"""Billing runs in chunks: a large run answers at once and shows its progress, and a run cut short (as by a
crash after its first chunk) is finished by the run worker without billing anything twice."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from cloudbill.embedded import DEMO_TENANT
from services.billing_factory.app import runs
from tests.support.cycle import SELLER, ok, wait_for


def subscribe(client, count: int) -> datetime:
    ok(client.put("/v1/invoice-settings", json=SELLER))
    ok(client.post("/v1/plans", json={"code": "flat", "name": "Flat", "currency": "EUR", "interval": "month",
                                      "charges": [{"code": "base", "name": "Grundgebühr", "model": "flat_fee", "amount": "10.00"}]}), 201)
    start = datetime.now(timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    for i in range(count):
        ok(client.post("/v1/customers", json={"external_id": f"c-{i}", "name": f"Kunde {i}", "street": "Weg 1", "postcode": "12345",
                                              "city": "Stadt"}), 201)
        ok(client.post("/v1/subscriptions", json={"customer": f"c-{i}", "plan": "flat", "started_at": start.isoformat()}), 201)
    return (start + timedelta(days=32)).replace(day=1)


def test_a_run_larger_than_a_chunk_answers_202_and_completes_in_the_background(embedded):
    platform, client = embedded
    platform.billing.settings.billing_run_chunk = 2
    as_of = subscribe(client, 5)
    started = client.post("/v1/billing-runs", json={"as_of": as_of.isoformat()})
    assert started.status_code == 202, started.text
    run = started.json()
    assert (run["status"], run["subscriptions_total"], run["subscriptions_done"]) == ("running", 5, 2)
    done = wait_for(lambda: (r := ok(client.get(f"/v1/billing-runs/{run['id']}")))["status"] == "completed" and r, "the run", timeout=30)
    assert (done["subscriptions_done"], done["invoices_requested"]) == (5, 5) and done["completed_at"]
    invoices = wait_for(lambda: (i := ok(client.get("/v1/invoices"))) and len(i) == 5 and i, "five invoices")
    assert sorted(i["number"] for i in invoices) == [f"RE-{n:06d}" for n in range(1, 6)]
    assert [r["id"] for r in ok(client.get("/v1/billing-runs"))] == [run["id"]]
    assert client.get("/v1/billing-runs/run_nope").status_code == 404


def test_a_run_interrupted_after_its_first_chunk_is_finished_by_the_worker_and_bills_nothing_twice(embedded):
    platform, client = embedded
    as_of = subscribe(client, 5)
    engine, tenant = platform.billing.engine, DEMO_TENANT
    run = runs.start_run(engine, tenant, as_of, datetime.now(timezone.utc))
    assert runs.advance_run(engine, tenant, run["id"], chunk=2) is True  # then the process "dies": nobody continues this run
    again = ok(client.post("/v1/billing-runs", json={"as_of": as_of.isoformat()}), 201)  # a second run meanwhile
    platform.billing.run_worker.wake()
    done = wait_for(lambda: (r := runs.get_run(engine, tenant, run["id"]))["status"] == "completed" and r, "the worker to finish it")
    assert done["subscriptions_done"] == 5 and done["invoices_requested"] + again["invoices_requested"] == 5
    invoices = wait_for(lambda: (i := ok(client.get("/v1/invoices"))) and len(i) == 5 and i, "one invoice per subscription")
    assert len({i["customer_id"] for i in invoices}) == 5
