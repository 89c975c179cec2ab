"""Usage that arrives after its period was invoiced is billed as an adjustment on the next invoice,
re-rated with the whole period so tiers stay right; the first invoice never changes."""

from datetime import datetime, timedelta, timezone

from starlette.testclient import TestClient

from cloudbill.embedded import build_platform, ensure_demo_tenant
from tests.support.cycle import ok, wait_for


def test_late_events_become_an_adjustment_on_the_next_invoice(tmp_path):
    platform = build_platform(tmp_path)
    key = ensure_demo_tenant(platform, tmp_path)
    this_month = datetime.now(timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    next_month = (this_month + timedelta(days=32)).replace(day=1)
    in_last_month = last_month + timedelta(days=1, hours=12)
    with TestClient(platform.app) as c:
        c.headers["Authorization"] = f"Bearer {key}"
        ok(c.post("/v1/customers", json={"external_id": "late", "name": "Late GmbH", "street": "Weg 1", "postcode": "12345", "city": "Stadt"}), 201)
        ok(c.post("/v1/metrics", json={"code": "kwh", "name": "kWh"}), 201)
        ok(c.post("/v1/plans", json={"code": "tiered", "name": "T", "charges": [{"code": "e", "name": "Strom", "model": "graduated", "metric": "kwh",
            "tiers": [{"up_to": "10", "unit_price": "1.00"}, {"up_to": None, "unit_price": "0.50"}]}]}), 201)
        ok(c.post("/v1/subscriptions", json={"customer": "late", "plan": "tiered", "started_at": last_month.isoformat()}), 201)

        def send(prefix, n):
            ok(c.post("/v1/usage/batch", json={"events": [
                {"event_id": f"{prefix}{i}", "customer": "late", "metric": "kwh", "timestamp": in_last_month.isoformat()} for i in range(n)]}), 202)

        send("on-time-", 8)
        ok(c.post("/v1/billing-runs", json={"as_of": this_month.isoformat()}), 201)
        first = wait_for(lambda: ok(c.get("/v1/invoices")), "first invoice")[0]
        assert first["net_minor"] == 800  # 8 x 1.00
        send("late-", 5)
        ok(c.post("/v1/billing-runs", json={"as_of": next_month.isoformat()}), 201)
        invoices = wait_for(lambda: (i := ok(c.get("/v1/invoices"))) and len(i) == 2 and i, "second invoice")
        second = next(i for i in invoices if i["id"] != first["id"])
        again_first = ok(c.get(f"/v1/invoices/{first['id']}"))
    adjustments = [l for l in second["lines"] if l["kind"] == "adjustment"]
    # re-rated: 10 x 1.00 + 3 x 0.50 = 11.50, billed 8.00 -> +2 units at 1.00 and +3 units at 0.50
    assert sorted((l["quantity"], l["net_minor"]) for l in adjustments) == [("2", 200), ("3", 150)]
    assert all(l["description"].startswith("Nachberechnung") for l in adjustments)
    assert second["net_minor"] == 350  # this month had no usage
    assert again_first["net_minor"] == 800 and again_first["number"] == first["number"]


def test_plan_preview_prices_quantities_like_a_billing_run_and_stores_nothing(tmp_path):
    platform = build_platform(tmp_path)
    key = ensure_demo_tenant(platform, tmp_path)
    with TestClient(platform.app) as c:
        c.headers["Authorization"] = f"Bearer {key}"
        ok(c.post("/v1/metrics", json={"code": "gb", "name": "GB", "aggregation": "sum", "field": "gb"}), 201)
        definition = {"code": "try", "name": "Try", "charges": [
            {"code": "f", "name": "Fee", "model": "flat_fee", "amount": "20.00"},
            {"code": "s", "name": "Storage", "model": "graduated", "metric": "gb", "tiers": [
                {"up_to": "100", "unit_price": "0"}, {"up_to": "1000", "unit_price": "0.02"}, {"up_to": None, "unit_price": "0.01"}],
             "maximum_amount": "25.00"}]}
        preview = ok(c.post("/v1/previews/plan", json={"definition": definition, "quantities": {"gb": "1500"},
                                                        "period_start": "2026-11-10T00:00:00Z"}))
        # 20.00 + (900 x 0.02 = 18.00) + (500 x 0.01 = 5.00) = 23.00 storage under the 25.00 cap
        assert preview["net_minor"] == 2000 + 1800 + 500 and preview["period_start"].startswith("2026-11-01")
        capped = ok(c.post("/v1/previews/plan", json={"definition": definition, "quantities": {"gb": "3000"}}))
        assert [l["kind"] for l in capped["lines"]][-1] == "cap" and capped["net_minor"] == 2000 + 2500
        bad = c.post("/v1/previews/plan", json={"definition": definition, "quantities": {"nope": "1"}})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "quantities.nope"
        assert ok(c.get("/v1/plans")) == []
