"""Every price model through the public API, one customer and subscription each, billed for last month.

For each case the upcoming-invoice preview is taken before the billing run;
the test then checks that the real invoice has the hand-computed net, the
expected line kinds, and the very same net and lines as the preview.
Used by the embedded test (SQLite) and the e2e test (PostgreSQL, Kafka).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable

from tests.support.cycle import SELLER, ok, wait_for

# last month: usage older than 62 days is refused at the edge, so the billed month moves with the calendar
_end = datetime.now(timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
_start = (_end - timedelta(days=1)).replace(day=1)
DAYS = (_end - _start).days


def day(n: int, hour: int = 0) -> str:
    """The instant day n (1-based) of the billed month begins (plus hours)."""
    return (_start + timedelta(days=n - 1, hours=hour)).isoformat()


START, MID, END = day(1), day(16), _end.isoformat()


def part(fee_minor: int, from_day: int, to_day: int) -> int:
    """The documented proration rule: a fee for days [from, to) of the month, rounded cumulatively half up."""
    r = lambda d: int((Decimal(fee_minor) * d / DAYS).quantize(Decimal(1), rounding=ROUND_HALF_UP))  # noqa: E731
    return r(to_day) - r(from_day)


def _calls(n: int) -> list[dict]:
    return [{"metric": "calls", "timestamp": day(1 + i % 28, 10)} for i in range(n)]


@dataclass
class Case:
    name: str
    charges: list[dict]
    net_minor: int
    kinds: list[str]  # the invoice's line kinds, in order
    events: list[dict] = field(default_factory=list)
    started_at: str = START
    plan: dict = field(default_factory=dict)  # extra plan fields
    act: Callable | None = None  # (client, subscription id, suffix) after subscribing
    tax_minor: int | None = None
    currency: str = "EUR"


FEE = {"code": "fee", "name": "Grundgebühr", "model": "flat_fee", "amount": "50.00"}
THIRTY = {"code": "fee", "name": "Grundgebühr", "model": "flat_fee", "amount": "30.00"}


def _coupon(c, sub, sfx):
    ok(c.post("/v1/coupons", json={"code": f"ten-{sfx}", "name": "10 EUR Rabatt", "amount": "10.00", "currency": "EUR", "periods": 1}), 201)
    ok(c.post(f"/v1/subscriptions/{sub}/coupons", json={"coupon": f"ten-{sfx}", "at": START}), 201)


def _credit(c, sub, sfx):
    ok(c.post(f"/v1/subscriptions/{sub}/credits", json={"name": "Kulanz", "amount": "15.00"}), 201)


def _order(c, sub, sfx):
    ok(c.post(f"/v1/subscriptions/{sub}/orders", json={"code": "workshop", "name": "Workshop", "quantity": "2", "unit_price": "25.00",
                                                        "ordered_at": day(10, 9)}), 201)


def _pause(c, sub, sfx):
    ok(c.post(f"/v1/subscriptions/{sub}/pause", json={"at": day(11)}))
    ok(c.post(f"/v1/subscriptions/{sub}/resume", json={"at": day(21)}))


def _change(c, sub, sfx):
    ok(c.post("/v1/plans", json={"code": f"sixty-{sfx}", "name": "Sixty", "charges": [
        {"code": "fee60", "name": "Grundgebühr Pro", "model": "flat_fee", "amount": "60.00"}]}), 201)
    ok(c.post(f"/v1/subscriptions/{sub}/change-plan", json={"plan": f"sixty-{sfx}", "at": MID}))


def _cancel(c, sub, sfx):
    ok(c.post(f"/v1/subscriptions/{sub}/cancel", json={"at": day(21)}))


def _cancel_at_end(c, sub, sfx):
    body = ok(c.post(f"/v1/subscriptions/{sub}/cancel", json={"at": day(5), "at_period_end": True}))
    assert body["ends_at"][:10] == END[:10] and body["cancel_at_period_end"] is True


CASES = [
    Case("flat fee in advance", [FEE], 5000, ["fee"]),
    Case("flat fee in arrears, started on day 11", [{**THIRTY, "billing": "in_arrears"}], part(3000, 10, DAYS), ["fee"], started_at=day(11, 8)),
    Case("per unit with free units", [{"code": "c", "name": "Calls", "model": "per_unit", "metric": "calls", "unit_price": "0.05",
                                       "free_units": "10"}], 100, ["usage", "parameter_info"], _calls(30)),
    Case("graduated with a tier flat fee", [{"code": "c", "name": "Calls", "model": "graduated", "metric": "calls", "tiers": [
        {"up_to": "10", "unit_price": "1.00"}, {"up_to": None, "unit_price": "0.50", "flat_fee": "2.00"}]}],
         1000 + 250 + 200, ["tier_step", "tier_step", "tier_step"], _calls(15)),
    Case("volume", [{"code": "c", "name": "Calls", "model": "volume", "metric": "calls", "tiers": [
        {"up_to": "10", "unit_price": "1.00"}, {"up_to": None, "unit_price": "0.50"}]}], 750, ["usage"], _calls(15)),
    Case("package", [{"code": "s", "name": "Storage", "model": "package", "metric": "gb", "package_size": "100", "package_price": "2.00"}],
         600, ["usage"], [{"metric": "gb", "timestamp": day(3), "properties": {"gb": "250"}}]),
    Case("percentage with fixed fee and per-transaction maximum", [{"code": "p", "name": "Payments", "model": "percentage", "metric": "tx",
         "percentage": "2.9", "fixed_fee": "0.30", "max_per_transaction": "5.00", "amount_field": "amount"}],
         3190 + 60 - 2430, ["usage", "usage", "usage"],
         [{"metric": "tx", "timestamp": day(3), "properties": {"amount": "100.00"}},
          {"metric": "tx", "timestamp": day(4), "properties": {"amount": "1000.00"}}]),
    Case("time-weighted sum opened by the last earlier value", [{"code": "s", "name": "Speicher", "model": "per_unit", "metric": "storage",
                                                                 "unit_price": "0.001", "unit_code": "HUR"}],
         (10 * 15 + 20 * (DAYS - 15)) * 24 // 10, ["usage"],  # GB-hours: 10 GB until the 16th, then 20 GB; 0.001 per GB-hour
         [{"metric": "storage", "timestamp": (_start - timedelta(days=1)).isoformat(), "properties": {"gb": "10"}},
          {"metric": "storage", "timestamp": MID, "properties": {"gb": "20"}}]),
    Case("minimum commitment true-up", [{"code": "c", "name": "Calls", "model": "per_unit", "metric": "calls", "unit_price": "0.01",
                                         "minimum_amount": "5.00"}], 500, ["usage", "minimum_true_up"], _calls(30)),
    Case("maximum per period", [{"code": "c", "name": "Calls", "model": "per_unit", "metric": "calls", "unit_price": "1.00",
                                 "maximum_amount": "10.00"}], 1000, ["usage", "cap"], _calls(15)),
    Case("one-time charge", [{"code": "setup", "name": "Einrichtung", "model": "one_time", "amount": "99.00"}], 9900, ["one_time"]),
    Case("bundle at a package price", [{"code": "suite", "name": "Suite", "model": "bundle", "amount": "79.00",
                                        "components": ["Mail", "Kalender"]}], 7900, ["fee", "parameter_info", "parameter_info"]),
    Case("price version from the 16th", [{**THIRTY, "versions": [{"valid_from": MID, "amount": "60.00"}]}], part(3000, 0, 15) + part(6000, 15, DAYS),
         ["fee", "fee"]),
    Case("plan discount 20 % for the first period", [FEE], 4000, ["fee", "discount"],
         plan={"discounts": [{"code": "intro", "name": "Einführungsrabatt", "percentage": "20", "periods": 1}]}),
    Case("coupon 10.00 for one period", [FEE], 4000, ["fee", "discount"], act=_coupon),
    Case("credit 15.00", [FEE], 3500, ["fee", "credit"], act=_credit),
    Case("one-time order", [FEE], 10000, ["fee", "one_time"], act=_order),
    Case("pause for 10 days", [THIRTY], part(3000, 0, 10) + part(3000, 20, DAYS), ["fee", "fee"], act=_pause),
    Case("plan change on the 16th", [THIRTY], part(3000, 0, 15) + part(6000, 15, DAYS), ["fee", "fee"], act=_change),
    Case("cancel on the 21st", [THIRTY], part(3000, 0, 20), ["fee"], act=_cancel),
    Case("cancel at period end", [THIRTY], 3000, ["fee"], act=_cancel_at_end),
    Case("reduced VAT rate 7 %", [{**FEE, "amount": "100.00", "tax_rate": "7"}], 10000, ["fee"], tax_minor=700),
    Case("price in a second currency", [{**THIRTY, "prices": {"CHF": {"amount": "28.00"}}}], 2800, ["fee"], currency="CHF"),
]


def bill_every_model(client) -> None:
    """Subscribe, preview, bill and compare every case; raises AssertionError naming the case that differs."""
    sfx = uuid.uuid4().hex[:6]
    ok(client.put("/v1/invoice-settings", json=SELLER))
    for code, body in (("calls", {"aggregation": "count"}), ("gb", {"aggregation": "sum", "field": "gb"}),
                       ("tx", {"aggregation": "sum", "field": "amount"}), ("storage", {"aggregation": "time_weighted_sum", "field": "gb"})):
        ok(client.post("/v1/metrics", json={"code": code, "name": code, **body}), 201)
    subs = {}
    events = []
    for i, case in enumerate(CASES):
        cust = ok(client.post("/v1/customers", json={"external_id": f"pm-{sfx}-{i}", "name": f"Kunde {i}", "street": "Weg 1",
                                                      "postcode": "12345", "city": "Stadt", "currency": case.currency}), 201)
        ok(client.post("/v1/plans", json={"code": f"pm-{sfx}-{i}", "name": case.name, "charges": case.charges, **case.plan}), 201)
        sub = ok(client.post("/v1/subscriptions", json={"customer": cust["external_id"], "plan": f"pm-{sfx}-{i}",
                                                         "started_at": case.started_at}), 201)
        assert sub["currency"] == case.currency
        if case.act:
            case.act(client, sub["id"], sfx)
        subs[case.name] = (cust, sub)
        events += [{**e, "event_id": f"pm-{sfx}-{i}-{j}", "customer": cust["external_id"]} for j, e in enumerate(case.events)]
    ok(client.post("/v1/usage/batch", json={"events": events}), 202)
    for case in CASES:
        if case.events:
            cust = subs[case.name][0]
            wait_for(lambda: ok(client.get(f"/v1/customers/{cust['id']}/usage-summary"))["events"] == len(case.events), f"usage of {case.name}")
    previews = {case.name: ok(client.get(f"/v1/previews/subscriptions/{subs[case.name][1]['id']}", params={"at": day(20)}))
                for case in CASES}
    ok(client.post("/v1/billing-runs", json={"as_of": END}), 201)
    for case in CASES:
        cust, sub = subs[case.name]
        invoice = wait_for(lambda: ok(client.get("/v1/invoices", params={"customer_id": cust["id"]})), f"the invoice of {case.name}")[0]
        preview = previews[case.name]
        kinds = [line["kind"] for line in invoice["lines"]]
        assert (invoice["net_minor"], kinds, invoice["currency"]) == (case.net_minor, case.kinds, case.currency), (case.name, invoice["net_minor"], invoice["status"], invoice.get("problems"), kinds)
        assert preview["net_minor"] == invoice["net_minor"], (case.name, preview["lines"], invoice["lines"])
        assert [(l["charge_code"], l["kind"], l["net_minor"]) for l in preview["lines"]] == \
               [(l["charge_code"], l["kind"], l["net_minor"]) for l in invoice["lines"]], case.name
        if case.tax_minor is not None:
            assert invoice["tax_minor"] == case.tax_minor, (case.name, invoice)
    credit = ok(client.get(f"/v1/subscriptions/{subs['credit 15.00'][1]['id']}/credits"))
    assert [(c["granted_minor"], c["remaining_minor"]) for c in credit] == [(1500, 0)]  # used up by the invoice, once
