"""Bad input gets a specific RFC 9457 problem and changes nothing; tenants never see each other."""

from datetime import datetime, timedelta, timezone

import pytest
from starlette.testclient import TestClient

from cloudbill.embedded import build_platform
from tests.support.cycle import ok, wait_for

NOW = datetime.now(timezone.utc)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    data = tmp_path_factory.mktemp("tenancy")
    platform = build_platform(data)
    with TestClient(platform.app, base_url="http://testserver") as client:
        admin = {"X-Cloudbill-Admin-Token": platform.edge.settings.admin_token}
        a = ok(client.post("/v1/tenants", json={"name": "A GmbH"}, headers=admin), 201)
        b = ok(client.post("/v1/tenants", json={"name": "B GmbH"}, headers=admin), 201)
        ha, hb = {"Authorization": f"Bearer {a['api_key']}"}, {"Authorization": f"Bearer {b['api_key']}"}
        cust = ok(client.post("/v1/customers", json={"external_id": "c1", "name": "Kunde"}, headers=ha), 201)
        ok(client.post("/v1/metrics", json={"code": "calls", "name": "Calls"}, headers=ha), 201)
        ok(client.post("/v1/plans", headers=ha, json={"code": "p", "name": "P", "charges": [
            {"code": "u", "name": "Calls", "model": "per_unit", "metric": "calls", "unit_price": "0.01"}]}), 201)
        ok(client.post("/v1/subscriptions", headers=ha, json={"customer": "c1", "plan": "p", "started_at": (NOW - timedelta(days=1)).isoformat()}), 201)
        yield client, ha, hb, cust, a, admin


def assert_problem(response, status, slug=None):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["type"].startswith("https://cloudbill.dev/problems/")
    if slug:
        assert body["type"].endswith(slug), body
    return body


def events_recorded(client, headers, customer_id):
    return ok(client.get(f"/v1/customers/{customer_id}/usage-summary", headers=headers))["events"]


def test_missing_and_wrong_api_keys_are_401(env):
    client, *_ = env
    assert_problem(client.get("/v1/customers"), 401, "unauthorized")
    assert_problem(client.get("/v1/customers", headers={"Authorization": "Bearer cb_nope_nope"}), 401)
    assert_problem(client.post("/v1/tenants", json={"name": "x"}, headers={"X-Cloudbill-Admin-Token": "wrong"}), 401)


def test_another_tenants_ids_answer_404_not_403(env):
    client, ha, hb, cust, *_ = env
    assert_problem(client.get(f"/v1/customers/{cust['id']}", headers=hb), 404, "not-found")
    assert_problem(client.get(f"/v1/subscriptions/{cust['id']}", headers=hb), 404)
    assert ok(client.get("/v1/customers", headers=hb)) == []
    assert_problem(client.post("/v1/subscriptions", headers=hb, json={"customer": "c1", "plan": "p", "started_at": NOW.isoformat()}), 404)


def test_sub_tenant_is_reachable_by_its_parent_only(env):
    client, ha, hb, _, a, _ = env
    sub = ok(client.post("/v1/tenants", json={"name": "A Sub"}, headers=ha), 201)
    assert sub["parent_id"] == a["id"]
    ok(client.post("/v1/customers", json={"external_id": "sub-c", "name": "Sub Kunde"}, headers={**ha, "Cloudbill-Tenant": sub["id"]}), 201)
    assert [c["external_id"] for c in ok(client.get("/v1/customers", headers={**ha, "Cloudbill-Tenant": sub["id"]}))] == ["sub-c"]
    assert_problem(client.get("/v1/customers", headers={**hb, "Cloudbill-Tenant": sub["id"]}), 404)


def test_malformed_json_and_schema_violations(env):
    client, ha, *_ = env
    assert_problem(client.post("/v1/customers", content=b"{not json", headers={**ha, "content-type": "application/json"}), 400, "malformed-json")
    body = assert_problem(client.post("/v1/customers", json={"external_id": "x", "name": "", "currency": "EURO"}, headers=ha), 422)
    assert {e["field"] for e in body["errors"]} >= {"name", "currency"}
    body = assert_problem(client.post("/v1/plans", headers=ha, json={"code": "bad", "name": "B", "charges": [
        {"code": "g", "name": "G", "model": "graduated", "metric": "calls",
         "tiers": [{"up_to": "100", "unit_price": "0.1"}, {"up_to": "50", "unit_price": "0.05"}, {"up_to": None, "unit_price": "0.01"}]}]}), 422)
    assert body["errors"][0]["field"] == "charges[0].tiers[1].up_to"
    assert_problem(client.post("/v1/plans", headers=ha, json={"code": "neg", "name": "N", "charges": [
        {"code": "u", "name": "U", "model": "per_unit", "metric": "calls", "unit_price": "-1"}]}), 422)
    assert_problem(client.post("/v1/plans", headers=ha, json={"code": "cur", "name": "C", "currency": "XXX", "charges": [
        {"code": "f", "name": "F", "model": "flat_fee", "amount": "1"}]}), 422)
    assert [p["code"] for p in ok(client.get("/v1/plans", headers=ha))] == ["p"]


@pytest.mark.parametrize("event, field", [
    ({"customer": "nobody", "metric": "calls"}, "customer"),
    ({"customer": "c1", "metric": "unknown"}, "metric"),
    ({"customer": "c1", "metric": "calls", "properties": {"q": -5}}, "properties.q"),
    ({"customer": "c1", "metric": "calls", "properties": {"q": "-5"}}, "properties.q"),  # a quantity sent as text
    ({"customer": "c1", "metric": "calls", "timestamp": (NOW + timedelta(hours=1)).isoformat()}, "timestamp"),
    ({"customer": "c1", "metric": "calls", "timestamp": (NOW - timedelta(days=400)).isoformat()}, "timestamp"),
])
def test_invalid_usage_rejects_the_whole_batch_and_records_nothing(env, event, field):
    client, ha, _, cust, *_ = env
    before = events_recorded(client, ha, cust["id"])
    good = {"event_id": f"good-{field}-{event['metric']}", "customer": "c1", "metric": "calls", "timestamp": NOW.isoformat()}
    bad = {"event_id": "bad", "timestamp": NOW.isoformat(), **event}
    body = assert_problem(client.post("/v1/usage/batch", json={"events": [good, bad]}, headers=ha), 422, "invalid-usage")
    assert body["errors"][0]["index"] == 1 and body["errors"][0]["field"] == field
    assert events_recorded(client, ha, cust["id"]) == before


def test_nan_oversized_and_too_many_events(env):
    client, ha, *_ = env
    nan = b'{"events": [{"event_id": "n", "customer": "c1", "metric": "calls", "timestamp": "2026-11-23T00:00:00Z", "properties": {"q": NaN}}]}'
    assert client.post("/v1/usage/batch", content=nan, headers={**ha, "content-type": "application/json"}).status_code in (400, 422)
    huge = b'{"events": [' + b",".join([b'{"event_id": "x", "customer": "c1", "metric": "calls", "timestamp": "2026-11-23T00:00:00Z"}'] * 20000) + b"]}"
    assert_problem(client.post("/v1/usage/batch", content=huge, headers={**ha, "content-type": "application/json"}), 413, "body-too-large")
    many = [{"event_id": f"m{i}", "customer": "c1", "metric": "calls", "timestamp": NOW.isoformat()} for i in range(1001)]
    assert_problem(client.post("/v1/usage/batch", json={"events": many}, headers=ha), 422)


def test_duplicates_are_counted_once_and_conflicting_duplicates_change_nothing(env):
    client, ha, _, cust, *_ = env
    before = events_recorded(client, ha, cust["id"])
    batch = [{"event_id": f"dup-{i}", "customer": "c1", "metric": "calls", "timestamp": NOW.isoformat(), "properties": {"q": 1}} for i in range(5)]
    ok(client.post("/v1/usage/batch", json={"events": batch}, headers=ha), 202)
    ok(client.post("/v1/usage/batch", json={"events": batch}, headers=ha), 202)
    changed = [{**batch[0], "properties": {"q": 2}}]
    body = assert_problem(client.post("/v1/usage/batch", json={"events": changed}, headers=ha), 409, "conflicting-duplicate")
    assert body["errors"][0]["field"] == "event_id"
    assert events_recorded(client, ha, cust["id"]) == before + 5


def test_payment_idempotency_key_replays_and_refuses_another_body(env):
    client, ha, _, cust, *_ = env
    body = {"customer_id": cust["id"], "amount": "10.00", "currency": "EUR", "reference": "advance"}
    first = ok(client.post("/v1/payments", json=body, headers={**ha, "Idempotency-Key": "k-1"}), 201)
    again = ok(client.post("/v1/payments", json=body, headers={**ha, "Idempotency-Key": "k-1"}), 201)
    assert again["id"] == first["id"] and first["unallocated_minor"] == 1000  # no open item: stays as credit
    assert_problem(client.post("/v1/payments", json={**body, "amount": "11.00"}, headers={**ha, "Idempotency-Key": "k-1"}), 409)
    assert_problem(client.post("/v1/payments", json={**body, "amount": "10.001"}, headers={**ha, "Idempotency-Key": "k-2"}), 422)
    assert_problem(client.post("/v1/payments", json=body, headers=ha), 422)  # the key is required
    account = ok(client.get(f"/v1/accounts/{cust['id']}", headers=ha))
    assert account["received_minor"] == 1000 and account["balance_minor"] == 1000


def test_the_api_docs_show_every_public_path_with_bearer_auth(env):
    client, *_ = env
    spec = wait_for(lambda: (s := client.get("/openapi.json").json()) and "/v1/invoices" in s["paths"] and s, "the merged spec")
    for path in ("/v1/usage/batch", "/v1/customers", "/v1/plans", "/v1/billing-runs", "/v1/invoices/{invoice_id}/{kind}", "/v1/payments", "/v1/accounts/{customer_id}"):
        assert path in spec["paths"], path
    assert spec["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    assert not any(p.startswith("/internal") for p in spec["paths"])
