"""Revenue sharing on the embedded platform: the three seed scenarios end to end, and the refusals that post nothing."""

from __future__ import annotations

from tests.support.revenue_sharing import partner_statements_and_payouts, reseller_electricity, shared_mobility, transport_ticket


def test_shared_mobility_splits_one_invoice_and_one_payment_among_owner_provider_and_service_partners(embedded):
    partner_statements_and_payouts(embedded[1], shared_mobility(embedded[1]))


def test_a_ticket_across_three_operators_is_cleared_by_kilometres(embedded):
    transport_ticket(embedded[1])


def test_resellers_of_resellers_take_their_stacked_commission_on_prepaid_electricity(embedded):
    reseller_electricity(embedded[1])


def test_partner_and_rule_input_is_refused_naming_the_field_and_stores_nothing(embedded):
    from tests.support.cycle import ok
    from tests.support.revenue_sharing import ADDRESS

    _, client = embedded
    base = {"code": "prov", "name": "Provider GmbH", "role": "provider", **ADDRESS, "vat_id": "DE123456789",
            "bank": {"iban": "DE89370400440532013000"}, "contract": {"reference": "V1", "valid_from": "2026-01-01", "valid_to": "2027-01-01"}}
    cases = [
        ({**base, "bank": {"iban": "DE89370400440532013001"}}, "bank.iban"),  # check digits wrong
        ({**base, "vat_id": None}, "vat_id"),
        ({**base, "parent": "nobody"}, "parent"),
        ({**base, "payout_method": "stripe"}, "stripe_account"),
        ({**base, "contract": {"reference": "V1", "valid_from": "2026-01-01", "valid_to": "2025-01-01"}}, "valid_to"),
    ]
    for body, field in cases:
        refused = client.post("/v1/partners", json=body)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field, (field, refused.text)
    assert ok(client.get("/v1/partners")) == []
    partner = ok(client.post("/v1/partners", json=base), 201)
    assert client.post("/v1/partners", json=base).status_code == 409
    rules = [
        ({"partner": "prov", "kind": "percent", "percent": "101"}, "percent"),
        ({"partner": "prov", "kind": "percent", "percent": "10", "valid_from": "2025-06-01"}, "valid_from"),  # before the contract
        ({"partner": "prov", "kind": "fixed_per_transaction", "amount": "-1"}, "amount"),
    ]
    for body, field in rules:
        refused = client.post("/v1/share-rules", json=body)
        assert refused.status_code == 422 and field in refused.json()["errors"][0]["field"], (field, refused.text)
    assert client.post("/v1/share-rules", json={"partner": "nobody", "kind": "percent", "percent": "10"}).status_code == 404
    ok(client.post("/v1/share-rules", json={"partner": "prov", "kind": "percent", "percent": "60", "valid_from": "2026-01-01"}), 201)
    second = client.post("/v1/share-rules", json={"partner": "prov", "kind": "percent", "percent": "41", "valid_from": "2026-02-01"})
    assert second.status_code == 422, second.text  # 60 % + 41 % of the same line in February
    assert len(ok(client.get("/v1/share-rules"))) == 1
    assert client.get(f"/v1/partners/{partner['id']}").status_code == 200


def test_late_usage_adjustments_carry_only_the_difference_in_each_share(embedded):
    """Events for an invoiced period are billed as adjustments on the next invoice; the provider's 70 % of them is the share
    of the difference, not the share of the whole re-rated period again."""
    from datetime import datetime, timedelta, timezone

    from tests.support.cycle import SELLER, ok, wait_for
    from tests.support.revenue_sharing import ADDRESS

    _, c = embedded
    this_month = datetime.now(timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    next_month = (this_month + timedelta(days=32)).replace(day=1)
    ok(c.put("/v1/invoice-settings", json=SELLER))
    provider = ok(c.post("/v1/partners", json={"code": "prov", "name": "Provider GmbH", **ADDRESS, "vat_id": "DE123456789",
                                               "bank": {"iban": "DE89370400440532013000"},
                                               "contract": {"reference": "V1", "valid_from": "2020-01-01"}}), 201)
    ok(c.post("/v1/customers", json={"external_id": "late", "name": "Late GmbH", "street": "Weg 1", "postcode": "12345", "city": "Stadt"}), 201)
    ok(c.post("/v1/metrics", json={"code": "kwh", "name": "kWh"}), 201)
    ok(c.post("/v1/plans", json={"code": "tiered", "name": "T", "charges": [{"code": "e", "name": "Strom", "model": "graduated", "metric": "kwh",
        "tiers": [{"up_to": "10", "unit_price": "1.00"}, {"up_to": None, "unit_price": "0.50"}]}]}), 201)
    ok(c.post("/v1/share-rules", json={"partner": "prov", "kind": "percent", "percent": "70"}), 201)
    ok(c.post("/v1/subscriptions", json={"customer": "late", "plan": "tiered", "started_at": last_month.isoformat()}), 201)

    def send(prefix, n):
        ok(c.post("/v1/usage/batch", json={"events": [{"event_id": f"{prefix}{i}", "customer": "late", "metric": "kwh",
                                                       "timestamp": (last_month + timedelta(days=1)).isoformat()} for i in range(n)]}), 202)

    send("on-time-", 8)
    ok(c.post("/v1/billing-runs", json={"as_of": this_month.isoformat()}), 201)
    first = wait_for(lambda: ok(c.get("/v1/invoices")), "first invoice")[0]
    send("late-", 5)
    ok(c.post("/v1/billing-runs", json={"as_of": next_month.isoformat()}), 201)
    both = wait_for(lambda: (found := ok(c.get("/v1/invoices"))) and len(found) == 2 and found, "second invoice")
    second = next(i for i in both if i["id"] != first["id"])
    assert (first["net_minor"], second["net_minor"]) == (800, 350)  # adjustments: +2 x 1.00 and +3 x 0.50

    def share(invoice: dict) -> dict[str, int]:
        view = wait_for(lambda: (r := c.get(f"/v1/partner-settlements/{invoice['id']}")).status_code == 200 and r.json(), "the settlement")
        return {p["partner_id"]: p["share_minor"] for p in view["partners"]}

    assert share(first) == {provider["id"]: 560} and share(second) == {provider["id"]: 140 + 105}
