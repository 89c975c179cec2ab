"""Prepaid consumption like prepaid electricity: top up, authorize, consume, watch the balance fall, get warned,
get cut off at zero; the period's invoice shows what the wallet paid and leaves only the rest due."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone


from tests.support.cycle import SELLER, ok, pdf_text, wait_for
from tests.support.webhooks import Receiver


def test_a_prepaid_meter_from_top_up_to_cut_off_and_invoice(embedded):
    platform, client = embedded
    receiver = Receiver(failures=0)
    try:
        ok(client.put("/v1/invoice-settings", json=SELLER))
        ok(client.post("/v1/webhook-endpoints", json={"url": receiver.url, "event_types": ["wallet.balance.alert"]}), 201)
        suffix = uuid.uuid4().hex[:6]
        customer = ok(client.post("/v1/customers", json={"external_id": f"meter-{suffix}", "name": "Haushalt Muster", "street": "Weg 1",
                                                         "postcode": "12345", "city": "Stadt"}), 201)
        ok(client.post("/v1/metrics", json={"code": f"kwh_{suffix}", "name": "Strom (kWh)", "aggregation": "count"}), 201)
        ok(client.post("/v1/plans", json={"code": f"strom-{suffix}", "name": "Strom prepaid", "currency": "EUR", "interval": "month",
                                          "charges": [{"code": "kwh", "name": "Arbeitspreis", "model": "per_unit",
                                                       "metric": f"kwh_{suffix}", "unit_price": "0.30"}]}), 201)
        start = datetime.now(timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        sub = ok(client.post("/v1/subscriptions", json={"customer": customer["external_id"], "plan": f"strom-{suffix}",
                                                        "started_at": start.isoformat()}), 201)
        ok(client.put(f"/v1/subscriptions/{sub['id']}/prepaid"))
        cid = customer["id"]
        ok(client.post(f"/v1/accounts/{cid}/wallet/top-ups", json={"amount": "10.00", "currency": "EUR"}, headers={"Idempotency-Key": "t1"}), 201)
        ok(client.put(f"/v1/wallets/{cid}/low-balance", json={"low_balance": "5.00", "currency": "EUR"}))
        wallet = lambda: ok(client.get(f"/v1/wallets/{cid}"))  # noqa: E731

        # a device reserves 1.00 before it consumes; more than the wallet holds is refused
        auth = ok(client.post(f"/v1/wallets/{cid}/authorizations", json={"amount": "1.00", "currency": "EUR", "reference": "meter-7"},
                              headers={"Idempotency-Key": "a1"}), 201)
        assert auth["status"] == "open" and (wallet()["available_minor"], wallet()["held_minor"]) == (900, 100)
        again = ok(client.post(f"/v1/wallets/{cid}/authorizations", json={"amount": "1.00", "currency": "EUR", "reference": "meter-7"},
                               headers={"Idempotency-Key": "a1"}), 201)
        assert again["id"] == auth["id"] and wallet()["held_minor"] == 100
        refused = client.post(f"/v1/wallets/{cid}/authorizations", json={"amount": "20.00", "currency": "EUR"}, headers={"Idempotency-Key": "a2"})
        assert refused.status_code == 409 and refused.json()["type"].endswith("insufficient-funds")

        def consume(batch: int, kwh: int) -> None:
            now = datetime.now(timezone.utc)
            events = [{"event_id": f"{suffix}-{batch}-{i}", "customer": customer["external_id"], "metric": f"kwh_{suffix}",
                       "timestamp": (now - timedelta(seconds=i)).isoformat()} for i in range(kwh)]
            ok(client.post("/v1/usage/batch", json={"events": events}), 202)

        # 10 kWh at 0.30 = 3.00 net, 3.57 gross: paid from the reservation first, then from the balance
        consume(1, 10)
        wait_for(lambda: wallet()["available_minor"] == 1000 - 357, "the first charge")
        assert wallet()["held_minor"] == 0
        assert client.post(f"/v1/authorizations/{auth['id']}/void").status_code == 409  # consumed, not open any more
        consume(2, 10)  # 7.14 gross so far: the balance falls below 5.00
        wait_for(lambda: wallet()["available_minor"] == 1000 - 714, "the second charge")
        low = wait_for(lambda: receiver.events("wallet.balance.alert"), "the low-balance webhook")
        assert [(e["data"]["level"], e["data"]["available_minor"], e["data"]["threshold_minor"]) for e in low] == [("low", 286, 500)]
        consume(3, 10)  # 10.71 gross so far: the wallet pays its last 2.86, 0.71 stays unpaid
        wait_for(lambda: wallet()["available_minor"] == 0, "the wallet to be empty")
        alerts = wait_for(lambda: (a := receiver.events("wallet.balance.alert")) and len(a) == 2 and a, "the depleted webhook")
        assert (alerts[1]["data"]["level"], alerts[1]["data"]["unpaid_minor"]) == ("depleted", 71)
        cut_off = client.post(f"/v1/wallets/{cid}/authorizations", json={"amount": "0.01", "currency": "EUR"}, headers={"Idempotency-Key": "a3"})
        assert cut_off.status_code == 409

        next_month = (start + timedelta(days=32)).replace(day=1)
        ok(client.post("/v1/billing-runs", json={"as_of": next_month.isoformat()}), 201)
        invoice = wait_for(lambda: [i for i in ok(client.get("/v1/invoices", params={"customer_id": cid})) if i["archived"]], "the invoice")[0]
        assert (invoice["net_minor"], invoice["tax_minor"], invoice["gross_minor"], invoice["paid_minor"]) == (900, 171, 1071, 1000)
        text = pdf_text(client.get(f"/v1/invoices/{invoice['id']}/pdf").content)
        assert "Bereits gezahlt" in text and "0,71" in text
        account = wait_for(lambda: (a := ok(client.get(f"/v1/accounts/{cid}"))) and a["open_items"] and a, "the receivable")
        assert account["balance_minor"] == -71 and [(i["amount_minor"], i["paid_minor"], i["outstanding_minor"]) for i in account["open_items"]] == [(1071, 1000, 71)]
    finally:
        receiver.server.shutdown()
