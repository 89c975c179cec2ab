"""Catalog and subscription lifecycle over HTTP: bad input is refused with a problem naming the field and stores nothing."""

import pytest
from starlette.testclient import TestClient

from cloudbill.embedded import build_platform, ensure_demo_tenant
from tests.support.cycle import ok

START = "2026-09-01T00:00:00Z"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    data = tmp_path_factory.mktemp("catalog")
    platform = build_platform(data)
    key = ensure_demo_tenant(platform, data)
    with TestClient(platform.app, base_url="http://testserver") as c:
        c.headers["Authorization"] = f"Bearer {key}"
        ok(c.post("/v1/metrics", json={"code": "gb", "name": "GB", "aggregation": "sum", "field": "gb", "decimals": 2}), 201)
        ok(c.post("/v1/customers", json={"external_id": "k1", "name": "Kunde"}), 201)
        ok(c.post("/v1/plans", json={"code": "base", "name": "Base", "charges": [
            {"code": "f", "name": "Fee", "model": "flat_fee", "amount": "10.00", "prices": {"CHF": {"amount": "9.50"}}}]}), 201)
        ok(c.post("/v1/plans", json={"code": "yearly", "name": "Yearly", "interval": "year", "charges": [
            {"code": "f", "name": "Fee", "model": "flat_fee", "amount": "100.00"}]}), 201)
        yield c


def field_of(response, status: int = 422) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()["errors"][0]["field"] if status == 422 else response.json()["title"]


@pytest.mark.parametrize("charge, field", [
    ({"model": "graduated", "metric": "gb", "tiers": [{"up_to": "10", "unit_price": "1"}, {"up_to": "10", "unit_price": "0.5"},
                                                     {"up_to": None, "unit_price": "0.1"}]}, "charges[0].tiers[1].up_to"),
    ({"model": "per_unit", "metric": "gb", "unit_price": "-1"}, "charges[0].unit_price"),
    ({"model": "flat_fee", "amount": "1", "prices": {"QQQ": {"amount": "1"}}}, "charges[0].prices.QQQ"),
    ({"model": "flat_fee", "amount": "1", "versions": [{"valid_from": "2026-09-10T00:00:00Z", "valid_until": "2026-09-01T00:00:00Z",
                                                        "amount": "2"}]}, "charges[0].versions[0].valid_until"),
    ({"model": "bundle", "amount": "5"}, "charges[0].components"),
    ({"model": "flat_fee", "amount": "1", "product": "unknown"}, "charges[0].product"),
])
def test_bad_plans_are_refused_naming_the_field_and_store_nothing(client, charge, field):
    body = {"code": "bad", "name": "Bad", "charges": [{"code": "c", "name": "C", **charge}]}
    assert field_of(client.post("/v1/plans", json=body)) == field
    assert "bad" not in [p["code"] for p in ok(client.get("/v1/plans"))]


def test_unknown_plan_currency_and_too_many_decimals_in_a_preview_are_refused(client):
    body = {"code": "bad", "name": "Bad", "currency": "XYZ", "charges": [{"code": "c", "name": "C", "model": "flat_fee", "amount": "1"}]}
    assert field_of(client.post("/v1/plans", json=body)) == "currency"
    assert field_of(client.post("/v1/previews/plan", json={"plan": "base", "quantities": {"gb": "1.234"}})) == "quantities.gb"
    assert ok(client.post("/v1/previews/plan", json={"plan": "base", "quantities": {"gb": "1.23"}, "currency": "CHF"}))["net_minor"] == 950


def test_a_subscription_picks_one_of_the_plan_currencies_matching_its_customer(client):
    assert field_of(client.post("/v1/subscriptions", json={"customer": "k1", "plan": "base", "started_at": START, "currency": "USD"})) == "currency"
    ok(client.post("/v1/customers", json={"external_id": "k-chf", "name": "Kunde CH", "currency": "CHF"}), 201)
    sub = ok(client.post("/v1/subscriptions", json={"customer": "k-chf", "plan": "base", "started_at": START}), 201)
    assert sub["currency"] == "CHF"


def test_lifecycle_refuses_what_cannot_happen(client):
    sub = ok(client.post("/v1/subscriptions", json={"customer": "k1", "plan": "base", "started_at": START}), 201)["id"]
    assert field_of(client.post(f"/v1/subscriptions/{sub}/change-plan", json={"plan": "yearly", "at": "2026-09-10T00:00:00Z"})) == "plan"
    assert field_of(client.post(f"/v1/subscriptions/{sub}/cancel", json={"at": "2026-08-01T00:00:00Z"})) == "at"
    assert client.post(f"/v1/subscriptions/{sub}/resume", json={"at": "2026-09-10T00:00:00Z"}).status_code == 409  # not paused
    ok(client.post(f"/v1/subscriptions/{sub}/pause", json={"at": "2026-09-10T00:00:00Z"}))
    assert client.post(f"/v1/subscriptions/{sub}/pause", json={"at": "2026-09-11T00:00:00Z"}).status_code == 409
    assert field_of(client.post(f"/v1/subscriptions/{sub}/resume", json={"at": "2026-09-09T00:00:00Z"})) == "at"
    assert ok(client.post(f"/v1/subscriptions/{sub}/resume", json={"at": "2026-09-12T00:00:00Z"}))["status"] == "active"
    both = {"code": "both", "name": "Both", "percentage": "10", "amount": "5", "currency": "EUR"}
    assert field_of(client.post("/v1/coupons", json=both)) == "percentage"
    assert field_of(client.post("/v1/coupons", json={"code": "nocur", "name": "No currency", "amount": "5"})) == "currency"
    assert field_of(client.post(f"/v1/subscriptions/{sub}/credits", json={"amount": "1.234"})) == "amount"
    assert field_of(client.post(f"/v1/subscriptions/{sub}/orders", json={"code": "o", "name": "O", "unit_price": "-1",
                                                                         "ordered_at": "2026-09-05T00:00:00Z"})) == "unit_price"
    assert ok(client.get("/v1/coupons")) == [] and ok(client.get(f"/v1/subscriptions/{sub}/credits")) == []
