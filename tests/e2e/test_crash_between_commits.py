"""Outbox/inbox correctness: a consumer killed between its database commit and its offset commit
redelivers the batch on restart, and the effect is still applied exactly once."""

import pytest

from tests.support.cycle import ok, wait_for

pytestmark = pytest.mark.e2e


def restart(cluster, name: str, crash_at: str | None) -> None:
    svc = cluster.services[name]
    svc.kill()
    key = next(k for k in svc.env if k.endswith("_MODE")).replace("_MODE", "_CRASH_AT")
    if crash_at:
        svc.env[key] = crash_at
    else:
        svc.env.pop(key, None)
    svc.start()
    svc.wait_ready()


def test_usage_consumer_killed_after_db_commit_counts_each_event_once(cluster, tenant_client):
    c = tenant_client
    ok(c.post("/v1/customers", json={"external_id": "crash-cust", "name": "Crash AG", "street": "Weg 1", "postcode": "10115", "city": "Berlin"}), 201)
    ok(c.post("/v1/metrics", json={"code": "crash_calls", "name": "Calls"}), 201)
    ok(c.post("/v1/plans", json={"code": "crash-plan", "name": "P", "charges": [{"code": "u", "name": "Calls", "model": "per_unit", "metric": "crash_calls", "unit_price": "0.10"}]}), 201)
    ok(c.post("/v1/subscriptions", json={"customer": "crash-cust", "plan": "crash-plan", "started_at": "2026-11-01T00:00:00Z"}), 201)
    restart(cluster, "billing_factory", "usage-after-db-commit")
    billing = cluster.services["billing_factory"]
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc).isoformat()
    events = [{"event_id": f"crash-{i}", "customer": "crash-cust", "metric": "crash_calls", "timestamp": now} for i in range(25)]
    ok(c.post("/v1/usage/batch", json={"events": events}), 202)
    wait_for(lambda: billing.proc.poll() is not None, "the billing consumer to crash after its commit")
    assert billing.proc.returncode == 86 and "fault injection: crashing at usage-after-db-commit" in billing.log_tail(200)
    restart(cluster, "billing_factory", None)
    customer_id = ok(c.get("/v1/customers/crash-cust"))["id"]
    summary = wait_for(lambda: (s := ok(c.get(f"/v1/customers/{customer_id}/usage-summary")))["events"] >= 25 and s, "events after restart")
    # The batch was redelivered after the restart (offsets were never committed), yet counted once.
    assert summary["events"] == 25
    wait_for(lambda: "duplicates=25" in billing.log_tail(400), "the redelivered batch to be recognised as duplicates")


def test_invoice_consumer_killed_after_issuing_leaves_one_invoice_and_no_gap(cluster, tenant_client):
    c = tenant_client
    ok(c.put("/v1/invoice-settings", json={
        "seller": {"name": "Seller GmbH", "street": "A 1", "postcode": "10115", "city": "Berlin", "country": "DE", "vat_id": "DE123456789", "email": "s@x.example"},
        "bank": {"iban": "DE89370400440532013000", "account_holder": "Seller GmbH"}}))
    restart(cluster, "invoice_factory", "invoice-after-db-commit")
    invoice = cluster.services["invoice_factory"]
    ok(c.post("/v1/billing-runs", json={"as_of": "2026-12-01T00:00:00Z"}), 201)
    wait_for(lambda: invoice.proc.poll() is not None, "the invoice consumer to crash after issuing")
    restart(cluster, "invoice_factory", None)
    customer_id = ok(c.get("/v1/customers/crash-cust"))["id"]
    invoices = wait_for(lambda: [i for i in ok(c.get("/v1/invoices", params={"customer_id": customer_id})) if i["archived"]], "the invoice")
    again = ok(c.get("/v1/invoices", params={"customer_id": customer_id}))
    assert len(again) == 1 and invoices[0]["gross_minor"] == 298  # 25 x 0.10 = 2.50 + 19 % = 2.98
    numbers = sorted(int(i["number"].split("-")[-1]) for i in ok(c.get("/v1/invoices")) if i["number"])
    assert numbers == list(range(1, len(numbers) + 1)), numbers  # gap-free
