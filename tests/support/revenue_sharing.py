"""The three revenue-sharing scenarios of the product documents, as functions both twins (embedded, distributed) run.

Each builds its partner network, bills a customer, takes the payment and
checks, to the cent, what every party gets: on the billing run's lines, in
the ledger after settlement, on the partner's self-billing statement (389)
and in its payout. Amounts are stated by hand in the scenario, not computed
by the code under test.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

from tests.support.cycle import SELLER, account_when, ok, wait_for

ADDRESS = {"street": "Partnerweg 1", "postcode": "50667", "city": "Köln", "country": "DE"}
IBANS = ["DE89370400440532013000", "DE02120300000000202051", "DE02500105170137075030", "DE02100100100006820101",
         "DE88100900001234567892"]


def month_start() -> datetime:
    return datetime.now(timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month(start: datetime) -> datetime:
    return (start + timedelta(days=32)).replace(day=1)


class Network:
    """A tenant's partners created for one scenario; codes carry a suffix so scenarios can share a tenant."""

    def __init__(self, client) -> None:
        self.client, self.suffix, self.ids = client, uuid.uuid4().hex[:6], {}

    def code(self, name: str) -> str:
        return f"{name}-{self.suffix}"

    def partner(self, name: str, role: str, parent: str | None = None, contract_from: date | None = None, **extra) -> dict:
        body = {"code": self.code(name), "name": f"{name.capitalize()} GmbH", "role": role, **ADDRESS,
                "vat_id": f"DE{100000000 + len(self.ids) * 7919:09d}", "bank": {"iban": IBANS[len(self.ids) % len(IBANS)]},
                "contract": {"reference": f"V-{name}", "valid_from": (contract_from or date(2020, 1, 1)).isoformat()}, **extra}
        if parent:
            body["parent"] = self.code(parent)
        created = ok(self.client.post("/v1/partners", json=body), 201)
        self.ids[name] = created["id"]
        return created

    def rule(self, partner: str, kind: str, **fields) -> dict:
        if "source" in fields:
            fields["source"] = self.code(fields["source"])
        return ok(self.client.post("/v1/share-rules", json={"partner": self.code(partner), "kind": kind, **fields}), 201)


def customer(client, suffix: str, **extra) -> dict:
    return ok(client.post("/v1/customers", json={
        "external_id": f"kunde-{suffix}-{uuid.uuid4().hex[:4]}", "name": "Erika Mustermann", "street": "Musterstraße 42", "postcode": "12345",
        "city": "Musterstadt", "country": "DE", **extra}), 201)


def issued_invoice(client, customer_id: str) -> dict:
    return wait_for(lambda: [i for i in ok(client.get("/v1/invoices", params={"customer_id": customer_id})) if i["archived"]],
                    "the customer's invoice to be issued and archived")[0]


def shares_by_partner(lines: list[dict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in lines:
        for share in line.get("shares") or []:
            out[share["partner_id"]] = out.get(share["partner_id"], 0) + share["amount_minor"]
    return out


def pay(client, customer_id: str, invoice: dict, amount_minor: int, key: str) -> dict:
    return ok(client.post("/v1/payments", json={"customer_id": customer_id, "amount": f"{amount_minor / 100:.2f}", "currency": "EUR",
                                                "reference": invoice["number"], "method": "bank_transfer"},
                          headers={"Idempotency-Key": key}), 201)


def payable(client, partner_id: str) -> int:
    return ok(client.get(f"/v1/partner-accounts/{partner_id}", params={"currency": "EUR"}))["balance_minor"]


def wait_payables(client, expected: dict[str, int]) -> None:
    wait_for(lambda: all(payable(client, pid) == amount for pid, amount in expected.items()),
             f"partner payables {expected}", timeout=60)


def shared_mobility(client) -> dict:
    """Seed 002: a rented vehicle. The platform owner keeps what the vehicle provider (70 % of the trip minutes), the
    maintenance partner (0.50 EUR per trip), the parking partner (5 % of the minutes) and customer service (2.00 EUR
    a month, from the monthly fee) do not get. The customer gets one invoice and pays once."""
    ok(client.put("/v1/invoice-settings", json=SELLER))
    net = Network(client)
    provider = net.partner("citycars", "provider")
    fixit = net.partner("fixit", "service")
    parking = net.partner("parkhaus", "service")
    support = net.partner("callcenter", "service")
    metric = f"minutes_{net.suffix}"
    ok(client.post("/v1/metrics", json={"code": metric, "name": "Fahrminuten", "aggregation": "sum", "field": "minutes", "decimals": 0}), 201)
    plan = ok(client.post("/v1/plans", json={
        "code": f"mobility-{net.suffix}", "name": "Carsharing", "currency": "EUR", "interval": "month", "charges": [
            {"code": "fee", "name": "Monatsgebühr", "model": "flat_fee", "amount": "9.90"},
            {"code": "minutes", "name": "Fahrminuten", "model": "per_unit", "metric": metric, "unit_price": "0.30"}]}), 201)
    net.rule("citycars", "percent", percent="70", charge_codes=["minutes"], order=1, plan_codes=[plan["code"]])
    net.rule("fixit", "fixed_per_transaction", amount="0.50", charge_codes=["minutes"], order=2, plan_codes=[plan["code"]])
    net.rule("parkhaus", "percent", percent="5", charge_codes=["minutes"], order=3, plan_codes=[plan["code"]])
    net.rule("callcenter", "fixed_per_period", amount="2.00", charge_codes=["fee"], order=4, plan_codes=[plan["code"]])
    buyer = customer(client, net.suffix)
    start = month_start()
    sub = ok(client.post("/v1/subscriptions", json={"customer": buyer["external_id"], "plan": plan["code"], "started_at": start.isoformat()}), 201)
    now = datetime.now(timezone.utc)
    trips = [{"event_id": f"trip-{net.suffix}-{i}", "customer": buyer["external_id"], "metric": metric,
              "timestamp": (now - timedelta(minutes=i)).isoformat(), "properties": {"minutes": m}} for i, m in enumerate((40, 35, 25))]
    ok(client.post("/v1/usage/batch", json={"events": trips}), 202)
    wait_for(lambda: ok(client.get(f"/v1/customers/{buyer['id']}/usage-summary")).get("events") == 3, "three trips recorded")

    preview = ok(client.get(f"/v1/previews/subscriptions/{sub['id']}"))
    expected = {provider["id"]: 2100, fixit["id"]: 150, parking["id"]: 150, support["id"]: 200}  # minutes 100 x 0.30 = 30.00 net
    assert shares_by_partner(preview["lines"]) == expected, preview["lines"]

    run = ok(client.post("/v1/billing-runs", json={"as_of": next_month(start).isoformat()}), 201)
    report = ok(client.get("/v1/revenue-shares", params={"billing_run_id": run["id"]}))["currencies"][0]
    assert {p["partner_id"]: p["net_minor"] for p in report["partners"]} == expected
    assert (report["net_minor"], report["platform_minor"]) == (3990, 3990 - 2600)

    invoice = issued_invoice(client, buyer["id"])
    assert (invoice["net_minor"], invoice["tax_minor"], invoice["gross_minor"]) == (3990, 758, 4748)
    pdf = client.get(f"/v1/invoices/{invoice['id']}/pdf").content
    xml = client.get(f"/v1/invoices/{invoice['id']}/xml").text
    assert "citycars" not in xml.lower() and "Citycars" not in xml and b"Citycars" not in pdf  # shares stay internal

    # Cash basis: a first partial payment settles its proportional part, the rest settles the remainder exactly.
    account_when(client, buyer["id"], lambda a: a["charges_minor"], "the receivable")
    pay(client, buyer["id"], invoice, 2374, f"m1-{net.suffix}")  # half of 47.48
    wait_payables(client, {provider["id"]: 1050, fixit["id"]: 75, parking["id"]: 75, support["id"]: 100})
    pay(client, buyer["id"], invoice, 4748 - 2374, f"m2-{net.suffix}")
    wait_payables(client, expected)
    return {"network": net, "partners": {"provider": provider, "fixit": fixit, "parking": parking, "support": support},
            "invoice": invoice, "customer": buyer, "period": (start.date(), next_month(start).date())}


def transport_ticket(client) -> dict:
    """Seeds 000/001: one ticket across three transport operators, paid once and distributed to them by kilometres;
    the platform keeps 3 % for running the ticket shop. An operator without a contract on the travel day is refused."""
    ok(client.put("/v1/invoice-settings", json=SELLER))
    net = Network(client)
    db = net.partner("db", "operator")
    vrr = net.partner("vrr", "operator")
    rheinbahn = net.partner("rheinbahn", "operator")
    net.partner("latebus", "operator", contract_from=date.today() + timedelta(days=400))
    clearing_house = net.partner("clearing", "other")
    metric = f"app_{net.suffix}"
    ok(client.post("/v1/metrics", json={"code": metric, "name": "App", "aggregation": "count"}), 201)
    plan = ok(client.post("/v1/plans", json={"code": f"ticketing-{net.suffix}", "name": "eTicket", "currency": "EUR", "interval": "month",
                                            "charges": [{"code": "app", "name": "App-Nutzung", "model": "per_unit", "metric": metric,
                                                         "unit_price": "0.00"}]}), 201)
    net.rule("clearing", "clearing", percent="97", charge_codes=[f"ticket-{net.suffix}"], plan_codes=[plan["code"]])
    buyer = customer(client, net.suffix)
    start = month_start()
    sub = ok(client.post("/v1/subscriptions", json={"customer": buyer["external_id"], "plan": plan["code"], "started_at": start.isoformat()}), 201)
    order = {"code": f"ticket-{net.suffix}", "name": "Ticket Düsseldorf – Dortmund", "unit_price": "10.00", "tax_rate": "7",
             "ordered_at": datetime.now(timezone.utc).isoformat()}
    refused = client.post(f"/v1/subscriptions/{sub['id']}/orders", json={**order, "clearing": {net.code("db"): 120, net.code("latebus"): 30}})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == f"clearing.{net.code('latebus')}", refused.text
    ok(client.post(f"/v1/subscriptions/{sub['id']}/orders",
                   json={**order, "clearing": {net.code("db"): 120, net.code("vrr"): 30, net.code("rheinbahn"): 7}}), 201)
    # 97 % of 10.00 = 9.70 by 120 : 30 : 7 km = 7.4140 / 1.8535 / 0.4325 -> 7.41 / 1.85 / 0.43 leaves 0.01 for the largest remainder (DB)
    expected = {db["id"]: 742, vrr["id"]: 185, rheinbahn["id"]: 43}
    preview = ok(client.get(f"/v1/previews/subscriptions/{sub['id']}"))
    assert shares_by_partner(preview["lines"]) == expected, preview["lines"]
    ok(client.post("/v1/billing-runs", json={"as_of": next_month(start).isoformat()}), 201)
    invoice = issued_invoice(client, buyer["id"])
    assert (invoice["net_minor"], invoice["tax_minor"], invoice["gross_minor"]) == (1000, 70, 1070)
    account_when(client, buyer["id"], lambda a: True, "the receivable")
    pay(client, buyer["id"], invoice, 1070, f"t-{net.suffix}")
    wait_payables(client, expected)
    assert payable(client, clearing_house["id"]) == 0
    # The trip is cancelled after payment: the credit note (381) takes every operator's share back in the ledger.
    ok(client.post(f"/v1/invoices/{invoice['id']}/cancel", json={"reason": "Fahrt ausgefallen"}), 201)
    wait_payables(client, {pid: 0 for pid in expected})
    return {"network": net, "invoice": invoice, "expected": expected}


def reseller_electricity(client) -> dict:
    """Seed 000: EnergieRevolte sells prepaid electricity; a municipal utility resells it (20 % of the net for the customers it
    and its own resellers sold), and its district utility, a reseller below it, gets 25 % of that share."""
    ok(client.put("/v1/invoice-settings", json=SELLER))
    net = Network(client)
    stadtwerk = net.partner("stadtwerk", "reseller")
    nord = net.partner("nord", "reseller", parent="stadtwerk")
    metric = f"kwh_{net.suffix}"
    ok(client.post("/v1/metrics", json={"code": metric, "name": "Strom (kWh)", "aggregation": "sum", "field": "kwh", "decimals": 3}), 201)
    plan = ok(client.post("/v1/plans", json={"code": f"strom-{net.suffix}", "name": "Strom prepaid", "currency": "EUR", "interval": "month",
                                            "charges": [{"code": "kwh", "name": "Arbeitspreis", "model": "per_unit", "metric": metric,
                                                         "unit_price": "0.35"}]}), 201)
    net.rule("stadtwerk", "commission", percent="20", resold_only=True, order=1, plan_codes=[plan["code"]])
    net.rule("nord", "commission", percent="25", source="stadtwerk", of_source=True, resold_only=True, order=2, plan_codes=[plan["code"]])
    cycle = client.patch(f"/v1/partners/{net.code('stadtwerk')}", json={"parent": net.code("nord")})
    assert cycle.status_code == 422 and cycle.json()["errors"][0]["field"] == "parent", cycle.text
    too_much = client.post("/v1/share-rules", json={"partner": net.code("nord"), "kind": "percent", "percent": "80", "source": net.code("stadtwerk"),
                                                     "of_source": True, "plan_codes": [plan["code"]]})
    assert too_much.status_code == 422, too_much.text  # 25 % + 80 % of the utility's share is more than it has
    start = month_start()
    buyers = {}
    for who in ("nord", "stadtwerk", None):
        buyer = customer(client, net.suffix, **({"reseller": net.code(who)} if who else {}))
        sub = ok(client.post("/v1/subscriptions", json={"customer": buyer["external_id"], "plan": plan["code"], "started_at": start.isoformat()}), 201)
        ok(client.put(f"/v1/subscriptions/{sub['id']}/prepaid"))
        ok(client.post(f"/v1/accounts/{buyer['id']}/wallet/top-ups", json={"amount": "50.00", "currency": "EUR"},
                       headers={"Idempotency-Key": f"top-{buyer['id']}"}), 201)
        ok(client.post("/v1/usage", json={"event_id": f"meter-{buyer['id']}", "customer": buyer["external_id"], "metric": metric,
                                          "timestamp": datetime.now(timezone.utc).isoformat(), "properties": {"kwh": "100"}}), 202)
        buyers[who] = (buyer, sub)
    for buyer, _ in buyers.values():  # 100 kWh x 0.35 = 35.00 net, 41.65 gross, paid from the wallet as it is consumed
        wait_for(lambda: ok(client.get(f"/v1/wallets/{buyer['id']}"))["available_minor"] == 5000 - 4165, "the prepaid charge")
    lines = {who: ok(client.get(f"/v1/previews/subscriptions/{sub['id']}"))["lines"] for who, (_, sub) in buyers.items()}
    assert shares_by_partner(lines["nord"]) == {stadtwerk["id"]: 525, nord["id"]: 175}  # 20 % = 7.00, of which 25 % = 1.75
    assert shares_by_partner(lines["stadtwerk"]) == {stadtwerk["id"]: 700}
    assert shares_by_partner(lines[None]) == {}
    ok(client.post("/v1/billing-runs", json={"as_of": next_month(start).isoformat()}), 201)
    for buyer, _ in buyers.values():
        invoice = issued_invoice(client, buyer["id"])
        assert (invoice["gross_minor"], invoice["paid_minor"]) == (4165, 4165)
    wait_payables(client, {stadtwerk["id"]: 525 + 700, nord["id"]: 175})  # settled on payment: the wallet paid it all
    return {"network": net, "partners": {"stadtwerk": stadtwerk, "nord": nord}}


def partner_statements_and_payouts(client, mobility: dict) -> None:
    """After the mobility invoice is paid: each partner's self-billing statement (389) with its VAT, a fee netted against
    it, one SEPA payout file, and the payable back at zero in the ledger."""
    provider, support = mobility["partners"]["provider"], mobility["partners"]["support"]
    start, end = mobility["period"]
    last = end - timedelta(days=1)
    fee = ok(client.post("/v1/partner-fees", json={"partner_id": support["id"], "currency": "EUR", "amount_minor": 50,
                                                   "description": "Plattformgebühr"}, headers={"Idempotency-Key": f"fee-{support['id']}"}), 201)
    assert payable(client, support["id"]) == 200 - 50

    def state(partner: dict) -> dict:
        created = ok(client.post("/v1/partner-statements", json={"partner_id": partner["id"], "currency": "EUR",
                                                                 "period_start": start.isoformat(), "period_end": last.isoformat()}), 201)
        return wait_for(lambda: (s := ok(client.get(f"/v1/partner-statements/{created['id']}")))["status"] == "issued" and s,
                        "the 389 statement to be issued", timeout=60)

    stated = state(provider)
    assert (stated["net_minor"], stated["tax_minor"], stated["gross_minor"], stated["fees_minor"], stated["payout_due_minor"]) == \
        (2100, 399, 2499, 0, 2499)  # the provider's 70 % plus 19 % VAT on its own service
    assert stated["number"].startswith("SB-")
    again = client.post("/v1/partner-statements", json={"partner_id": provider["id"], "currency": "EUR",
                                                        "period_start": start.isoformat(), "period_end": last.isoformat()})
    assert again.status_code == 422, again.text  # everything of the period is on the first statement already
    support_statement = state(support)
    assert (support_statement["net_minor"], support_statement["tax_minor"], support_statement["fees_minor"],
            support_statement["payout_due_minor"]) == (200, 38, 50, 188)
    assert fee["id"]
    statement_doc = wait_for(lambda: [i for i in ok(client.get("/v1/invoices", params={"customer_id": provider["id"]}))
                                      if i["number"] == stated["number"] and i["archived"]], "the 389 archived", timeout=60)[0]
    assert statement_doc["gross_minor"] == 2499

    body = {"currency": "EUR", "method": "sepa", "execution_date": date.today().isoformat(), "partner_ids": [provider["id"], support["id"]]}
    payout = ok(client.post("/v1/partner-payouts", json=body, headers={"Idempotency-Key": f"payout-{provider['id']}"}), 201)
    assert payout["total_minor"] == 2499 + 188 and {i["partner_id"]: i["amount_minor"] for i in payout["items"]} == \
        {provider["id"]: 2499, support["id"]: 188}
    assert provider["bank"]["iban"] in payout["pain001"] and "<CdtTrfTxInf>" in payout["pain001"]
    replay = ok(client.post("/v1/partner-payouts", json=body, headers={"Idempotency-Key": f"payout-{provider['id']}"}), 201)
    assert replay["id"] == payout["id"]
    for partner in (provider, support):
        account = ok(client.get(f"/v1/partner-accounts/{partner['id']}", params={"currency": "EUR"}))
        assert account["balance_minor"] == 0, account
        assert {"revenue_share", "statement_vat", "partner_payout"} <= {e["kind"] for e in account["entries"]}
    assert ok(client.get(f"/v1/partner-statements/{stated['id']}"))["status"] == "paid"
    partner_reads_only_its_own(client, provider, stated, statement_doc, support_statement, mobility["invoice"])


def partner_reads_only_its_own(client, provider: dict, stated: dict, document: dict, other_statement: dict, customer_invoice: dict) -> None:
    """The provider's ERP, with the key the tenant issued to it, fetches its statement, its 389 and its payout in the ledger."""
    key = ok(client.post("/v1/api-keys", json={"name": "ERP CityCars", "partner_id": provider["code"]}), 201)["api_key"]
    as_partner = {"Authorization": f"Bearer {key}"}
    assert [s["id"] for s in ok(client.get("/v1/partner-statements", params={"partner_id": other_statement["partner_id"]},
                                           headers=as_partner))] == [stated["id"]]
    assert ok(client.get(f"/v1/partner-statements/{stated['id']}", headers=as_partner))["payout_due_minor"] == 2499
    pdf = client.get(f"/v1/invoices/{document['id']}/pdf", headers=as_partner)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    account = ok(client.get(f"/v1/partner-accounts/{provider['id']}", headers=as_partner))
    assert account["balance_minor"] == 0 and "partner_payout" in {e["kind"] for e in account["entries"]}
    for path in (f"/v1/partner-statements/{other_statement['id']}", f"/v1/partner-accounts/{other_statement['partner_id']}",
                 f"/v1/invoices/{customer_invoice['id']}/pdf", f"/v1/invoices/{customer_invoice['id']}"):
        assert client.get(path, headers=as_partner).status_code == 404, path
    for method, path in (("GET", "/v1/customers"), ("GET", "/v1/tenants/me"), ("POST", "/v1/partner-payouts"), ("GET", "/v1/revenue-shares")):
        assert client.request(method, path, headers=as_partner).status_code == 403, path
    refused = client.post("/v1/api-keys", json={"name": "nobody", "partner_id": "ptn_unknown"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "partner_id"
