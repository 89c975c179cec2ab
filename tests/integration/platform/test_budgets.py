"""Budgets for postpaid customers: each level of a charges or usage limit is announced once per period, as an
event and a signed webhook, on the amounts the invoice will show; bad budgets are refused naming the field."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from tests.support.cycle import SELLER, ok, wait_for
from tests.support.webhooks import Receiver


def test_levels_are_announced_once_when_usage_and_charges_reach_them(embedded):
    platform, client = embedded
    receiver = Receiver(failures=0)
    try:
        ok(client.put("/v1/invoice-settings", json=SELLER))
        ok(client.post("/v1/webhook-endpoints", json={"url": receiver.url, "event_types": ["budget.threshold.crossed"]}), 201)
        suffix = uuid.uuid4().hex[:6]
        customer = ok(client.post("/v1/customers", json={"external_id": f"b-{suffix}", "name": "Budget GmbH", "street": "Weg 1",
                                                         "postcode": "12345", "city": "Stadt"}), 201)
        ok(client.post("/v1/metrics", json={"code": f"calls_{suffix}", "name": "Calls"}), 201)
        ok(client.post("/v1/plans", json={"code": f"api-{suffix}", "name": "API", "currency": "EUR", "interval": "month", "charges": [
            {"code": "calls", "name": "API-Aufrufe", "model": "per_unit", "metric": f"calls_{suffix}", "unit_price": "0.10"}]}), 201)
        start = datetime.now(timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        sub = ok(client.post("/v1/subscriptions", json={"customer": customer["external_id"], "plan": f"api-{suffix}",
                                                        "started_at": start.isoformat()}), 201)
        path = f"/v1/subscriptions/{sub['id']}/budgets"
        money = ok(client.post(path, json={"kind": "charges", "limit": "2.00", "levels": [50, 100]}), 201)
        calls = ok(client.post(path, json={"kind": "usage", "charge_code": "calls", "limit": "15", "levels": [100]}), 201)
        assert (money["limit"], money["currency"], calls["limit"]) == ("2.00", "EUR", "15")

        sent: dict[int, list[dict]] = {}

        def send(batch: int, n: int) -> None:
            now = datetime.now(timezone.utc)
            events = sent.get(batch) or [{"event_id": f"{suffix}-{batch}-{i}", "customer": customer["external_id"], "metric": f"calls_{suffix}",
                       "timestamp": (now - timedelta(seconds=i)).isoformat()} for i in range(n)]
            sent[batch] = events
            ok(client.post("/v1/usage/batch", json={"events": events}), 202)

        def alerts() -> list[tuple[str, int]]:
            return sorted((e["data"]["kind"], e["data"]["level"]) for e in receiver.events("budget.threshold.crossed"))

        send(1, 12)  # 1.20 net: half of the charges budget; 12 calls: below 15
        wait_for(lambda: alerts() == [("charges", 50)], "the 50 % charges alert")
        send(1, 12)  # the same events again: duplicates change nothing
        send(2, 10)  # 2.20 net and 22 calls: both limits reached
        wait_for(lambda: alerts() == [("charges", 50), ("charges", 100), ("usage", 100)], "the 100 % alerts")
        send(3, 5)
        wait_for(lambda: ok(client.get(f"/v1/subscriptions/{sub['id']}/usage"))["events"] == 27, "the last batch recorded")
        assert alerts() == [("charges", 50), ("charges", 100), ("usage", 100)]  # each level once per period
        listed = {b["kind"]: b for b in ok(client.get(path))}
        assert (listed["charges"]["value"], listed["charges"]["levels_reached"]) == ("2.70", [50, 100])
        assert (listed["usage"]["value"], listed["usage"]["levels_reached"]) == ("27", [100])
        event = receiver.events("budget.threshold.crossed")[0]["data"]
        assert (event["subscription_id"], event["customer_id"], event["limit"]) == (sub["id"], customer["id"], "200")

        for bad, field in (({"kind": "charges", "limit": "2.00", "levels": [100, 50]}, "levels"),
                           ({"kind": "usage", "limit": "10"}, "charge_code"),
                           ({"kind": "usage", "limit": "10", "charge_code": "nope"}, "charge_code"),
                           ({"kind": "charges", "limit": "-1"}, "limit")):
            refused = client.post(path, json=bad)
            assert refused.status_code == 422 and field in refused.text, (bad, refused.text)
        assert len(ok(client.get(path))) == 2
        assert client.delete(f"/v1/budgets/{calls['id']}").status_code == 204 and len(ok(client.get(path))) == 1
    finally:
        receiver.server.shutdown()
