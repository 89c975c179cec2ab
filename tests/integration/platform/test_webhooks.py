"""Signed webhooks to a real HTTP receiver: delivered once per event and endpoint, retried after a failure,
verifiable with the secret shown at registration, and refused for what the platform does not publish."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from services.interface_layer.app.webhooks import enqueue
from tests.support.cycle import bill_new_customer, ok, wait_for
from tests.support.webhooks import Receiver


@pytest.fixture
def receiver():
    r = Receiver(failures=1)
    yield r
    r.server.shutdown()


def test_events_arrive_signed_once_each_after_a_failed_attempt(embedded, receiver):
    platform, client = embedded
    endpoint = ok(client.post("/v1/webhook-endpoints", json={"url": receiver.url, "event_types": ["invoice.issued", "payment.received"]}), 201)
    assert endpoint["secret"].startswith("whsec_") and "secret" not in ok(client.get("/v1/webhook-endpoints"))[0]

    customer, invoice = bill_new_customer(client, settings_done=False)
    ok(client.post("/v1/payments", json={"customer_id": customer["id"], "amount": f"{invoice['gross_minor'] / 100:.2f}", "currency": "EUR",
                                         "reference": invoice["number"], "method": "bank_transfer"}, headers={"Idempotency-Key": "p1"}), 201)
    wait_for(lambda: len(receiver.accepted()) >= 2, "both events delivered", timeout=30)
    time.sleep(0.5)  # nothing else may arrive
    bodies = {json.loads(body)["type"]: (headers, body) for headers, body in receiver.accepted()}
    assert sorted(bodies) == ["invoice.issued", "payment.received"] and len(receiver.accepted()) == 2
    headers, body = bodies["invoice.issued"]
    event = json.loads(body)
    assert event["data"]["number"] == invoice["number"] and event["data"]["gross_minor"] == invoice["gross_minor"]
    assert headers["cloudbill-event-id"] == event["id"] and headers["cloudbill-event-type"] == "invoice.issued"
    t, v1 = (part.split("=", 1)[1] for part in headers["cloudbill-signature"].split(","))
    assert hmac.compare_digest(v1, hmac.new(endpoint["secret"].encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest())
    assert abs(int(t) - time.time()) < 60

    deliveries = ok(client.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries"))
    assert sorted((d["event_type"], d["status"]) for d in deliveries) == [("invoice.issued", "delivered"), ("payment.received", "delivered")]
    assert sum(d["attempts"] for d in deliveries) == 3 and any(d["last_error"] is None and d["attempts"] == 2 for d in deliveries)
    # the bus redelivering the same event queues nothing new
    assert enqueue(platform.edge.engine, [(event["tenant_id"], event["id"], "invoice.issued", event["data"])]) == 0


def test_bad_registrations_are_refused_and_endpoints_are_tenant_scoped(embedded, receiver):
    platform, client = embedded
    assert client.post("/v1/webhook-endpoints", json={"url": receiver.url, "event_types": ["usage.recorded"]}).status_code == 422
    assert client.post("/v1/webhook-endpoints", json={"url": "ftp://example.org/x", "event_types": ["*"]}).status_code == 422
    assert client.post("/v1/webhook-endpoints", json={"url": receiver.url, "event_types": []}).status_code == 422
    assert ok(client.get("/v1/webhook-endpoints")) == []
    endpoint = ok(client.post("/v1/webhook-endpoints", json={"url": receiver.url, "event_types": ["*"]}), 201)
    other = ok(client.post("/v1/tenants", json={"name": "Tochter GmbH"}), 201)
    child = {"Authorization": f"Bearer {other['api_key']}"}
    assert client.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries", headers=child).status_code == 404
    assert client.delete(f"/v1/webhook-endpoints/{endpoint['id']}", headers=child).status_code == 404
    assert client.delete(f"/v1/webhook-endpoints/{endpoint['id']}").status_code == 204
    assert ok(client.get("/v1/webhook-endpoints")) == []
