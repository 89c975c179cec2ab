"""The billing cycle a user runs, as one function both twins (embedded, distributed) are tested with."""

from __future__ import annotations

import io
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

SELLER = {
    "seller": {"name": "Cycle Cloud GmbH", "street": "Hauptstraße 1", "postcode": "10115", "city": "Berlin", "country": "DE",
               "vat_id": "DE123456789", "tax_number": "30/123/45678", "email": "billing@cycle.example"},
    "bank": {"iban": "DE89370400440532013000", "bic": "COBADEFFXXX", "account_holder": "Cycle Cloud GmbH"},
    "payment_terms_days": 14,
}


@dataclass
class CycleResult:
    invoice: dict
    pdf: bytes
    xml: bytes
    account_before: dict
    account_after: dict


def wait_for(fetch: Callable[[], object], what: str, timeout: float = 30.0, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fetch()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def account_when(client, customer_id: str, ready: Callable[[dict], bool], what: str) -> dict:
    """The customer's account once `ready` holds. 404 means "not yet": the payment factory opens the account only
    when it consumes the invoice's posting, which can come after the invoice shows as archived."""
    def fetch():
        response = client.get(f"/v1/accounts/{customer_id}")
        if response.status_code == 404:
            return None
        account = ok(response)
        return account if ready(account) else None

    return wait_for(fetch, what)


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
    return response.json() if response.content else {}


def bill_new_customer(client, send_usage: Callable[[list[dict]], None] | None = None, settings_done: bool = False) -> tuple[dict, dict]:
    """A new customer on a monthly plan with usage, billed for the month: returns (customer, archived invoice)."""
    suffix = uuid.uuid4().hex[:6]
    if not settings_done:
        ok(client.put("/v1/invoice-settings", json=SELLER))
    customer = ok(client.post("/v1/customers", json={
        "external_id": f"cust-{suffix}", "name": "Muster GmbH", "street": "Musterstraße 42", "postcode": "12345",
        "city": "Musterstadt", "country": "DE", "vat_id": "DE987654321", "email": "erika@muster.example"}), 201)
    ok(client.post("/v1/metrics", json={"code": f"api_calls_{suffix}", "name": "API calls", "aggregation": "count"}), 201)
    plan = ok(client.post("/v1/plans", json={
        "code": f"basic-{suffix}", "name": "Basic", "currency": "EUR", "interval": "month",
        "charges": [
            {"code": "base", "name": "Grundgebühr", "model": "flat_fee", "amount": "49.00"},
            {"code": "calls", "name": "API-Aufrufe", "model": "per_unit", "metric": f"api_calls_{suffix}", "unit_price": "0.05"},
        ]}), 201)
    now = datetime.now(timezone.utc)
    period_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    ok(client.post("/v1/subscriptions", json={"customer": customer["external_id"], "plan": plan["code"],
                                              "started_at": period_start.isoformat()}), 201)
    events = [{"event_id": f"{suffix}-{i}", "customer": customer["external_id"], "metric": f"api_calls_{suffix}",
               "timestamp": (now - timedelta(seconds=i)).isoformat()} for i in range(30)]
    if send_usage is None:
        ok(client.post("/v1/usage/batch", json={"events": events}), 202)
    else:
        send_usage(events)
    next_month = (period_start + timedelta(days=32)).replace(day=1)

    # wait until all 30 events are recorded, then bill the closed month
    subs_usage = lambda: ok(client.get(f"/v1/customers/{customer['id']}/usage-summary"))
    wait_for(lambda: subs_usage().get("events") == 30, "30 usage events recorded")
    ok(client.post("/v1/billing-runs", json={"as_of": next_month.isoformat()}), 201)
    invoice = wait_for(lambda: [i for i in ok(client.get("/v1/invoices", params={"customer_id": customer["id"]})) if i["archived"]],
                       "the invoice to be issued and archived")[0]
    assert invoice["status"] == "finalized", invoice
    return customer, invoice


def run_cycle(client, send_usage: Callable[[list[dict]], None] | None = None, settings_done: bool = False) -> CycleResult:
    """client: an httpx-compatible client with the tenant's API key set. Usage defaults to the REST batch."""
    customer, invoice = bill_new_customer(client, send_usage, settings_done)
    pdf = client.get(f"/v1/invoices/{invoice['id']}/pdf")
    xml = client.get(f"/v1/invoices/{invoice['id']}/xml")
    assert pdf.status_code == 200 and xml.status_code == 200
    before = account_when(client, customer["id"], lambda a: a["charges_minor"], "the receivable to be posted")
    amount = f"{invoice['gross_minor'] / 100:.2f}"
    ok(client.post("/v1/payments", json={"customer_id": customer["id"], "amount": amount, "currency": "EUR",
                                         "reference": invoice["number"], "method": "bank_transfer"},
                   headers={"Idempotency-Key": f"pay-{invoice['id']}"}), 201)
    after = ok(client.get(f"/v1/accounts/{customer['id']}"))
    return CycleResult(invoice, pdf.content, xml.content, before, after)


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def bill_customers(client, count: int) -> str:
    """`count` customers on a monthly flat-fee plan since the first of this month, billed for it; returns the run id."""
    suffix = uuid.uuid4().hex[:6]
    plan = ok(client.post("/v1/plans", json={"code": f"flat-{suffix}", "name": "Flat", "currency": "EUR", "interval": "month",
                                            "charges": [{"code": "base", "name": "Grundgebühr", "model": "flat_fee", "amount": "10.00"}]}), 201)
    start = datetime.now(timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    for i in range(count):
        customer = ok(client.post("/v1/customers", json={
            "external_id": f"c-{suffix}-{i}", "name": f"Kunde {i} GmbH", "street": "Weg 1", "postcode": "12345",
            "city": "Stadt", "country": "DE", "vat_id": "DE987654321"}), 201)
        ok(client.post("/v1/subscriptions", json={"customer": customer["external_id"], "plan": plan["code"],
                                                  "started_at": start.isoformat()}), 201)
    next_month = (start + timedelta(days=32)).replace(day=1)
    run = client.post("/v1/billing-runs", json={"as_of": next_month.isoformat()})
    assert run.status_code in (201, 202), run.text  # 202: large runs continue in the billing factory's run worker
    return run.json()["id"]


def progress(client, run_id: str) -> dict:
    response = client.get(f"/v1/invoice-runs/{run_id}")
    return response.json() if response.status_code == 200 else {}
