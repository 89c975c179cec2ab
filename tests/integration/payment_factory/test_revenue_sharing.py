"""Revenue sharing through the bus and the API on SQLite and PostgreSQL: partners' settled shares follow payments, refunds,
chargebacks and credit notes; fees, statements (389), VAT and payouts (pain.001, Stripe) land on the partner's payable."""

import os
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from libs.contracts import decode, encode, topics
from libs.contracts.events import InvoiceIssued, PartnerBank, PartnerChanged, PartyShare, PartySnapshot, PartnerStatementRequested
from libs.platform.bus.port import Message
from services.payment_factory.adapters.tables import outbox
from services.payment_factory.app.receivables import post_invoice
from services.payment_factory.entrypoints.consumers import make_handler
from tests.integration.payment_factory.test_payments_api import H, T, invariants, pay, problem, svc  # noqa: F401  (svc: the fixture)
from tests.integration.payment_factory.test_sepa_collection_dunning import CREDITOR

GOOD_IBAN = "DE89370400440532013000"
OTHER = {**H, "X-Cloudbill-Tenant": "tenant-other"}
TODAY = date.today()
PERIOD = {"currency": "EUR", "period_start": (TODAY - timedelta(days=30)).isoformat(), "period_end": (TODAY + timedelta(days=1)).isoformat()}


@pytest.fixture
def svc_settings():
    base = os.environ.get("CLOUDBILL_STRIPE_API_BASE")
    stripe = {"stripe_api_key": "sk_test_123", "stripe_webhook_secret": "whsec_x", "stripe_api_base": base} if base else {}
    return {**CREDITOR, **stripe}


def deliver(container, topic, *bodies, tenant=T):
    handler = make_handler(container)
    handler([Message(topic, None, encode(tenant, b)) for b in bodies])


def partner(container, pid, country="DE", vat_id="DE123456789", tax_number=None, iban=GOOD_IBAN, method="sepa", stripe=None):
    body = PartnerChanged(partner_id=pid, code=pid.upper(), role="provider",
                          party=PartySnapshot(id=pid, name=f"Partner {pid}", country=country, vat_id=vat_id, tax_number=tax_number),
                          bank=PartnerBank(holder=f"Partner {pid}", iban=iban) if iban else None, payout_method=method, stripe_account=stripe)
    deliver(container, topics.BILLING, body)
    return body


def invoice(container, number, net, tax, shares, customer="c1", type_code="380", corrects=None, prepaid=0):
    inv = InvoiceIssued(invoice_id=f"inv-{number}", number=number, type_code=type_code, customer_id=customer, customer_name="Kunde",
                        currency="EUR", issue_date=TODAY, due_date=TODAY + timedelta(days=14), net_minor=net, tax_minor=tax,
                        gross_minor=net + tax, tax_breakdown=[], corrects_invoice_id=corrects, prepaid_minor=prepaid,
                        shares=[PartyShare(partner_id=p, net_minor=a) for p, a in shares.items()])
    raw = encode(T, inv)
    make_handler(container)([Message(topics.INVOICES, None, raw), Message(topics.INVOICES, None, raw)])  # redelivered: posts once
    return inv.invoice_id


def settled(client, invoice_id):
    r = client.get(f"/v1/partner-settlements/{invoice_id}", headers=H)
    assert r.status_code == 200, r.text
    return {p["partner_id"]: p["settled_minor"] for p in r.json()["partners"]}


def balance(client, pid, headers=H):
    r = client.get(f"/v1/partner-accounts/{pid}", headers=headers, params={"currency": "EUR"})
    assert r.status_code == 200, r.text
    return r.json()["balance_minor"]


def post(client, path, body, key=None, status=201):
    r = client.post(path, json=body, headers={**H, **({"Idempotency-Key": key} if key else {})})
    assert r.status_code == status, r.text
    return r.json()


def platform_balances(container):
    """Per account purpose and currency, the posted balance (debits minus credits), partners and customers summed."""
    a = container.ledger.t.accounts.c
    with container.engine.connect() as conn:
        rows = conn.execute(select(a.purpose, a.debits_posted, a.credits_posted).where(a.tenant_id == T)).all()
    out = {}
    for purpose, d, c in rows:
        out[purpose] = out.get(purpose, 0) + int(d) - int(c)
    return out


def test_cash_settlement_follows_payments_refunds_credit_notes_and_chargebacks(svc):
    container, client = svc
    partner(container, "p1")
    partner(container, "p2")
    inv = invoice(container, "RE-1", 10000, 1900, {"p1": 2000, "p2": 1000})
    assert settled(client, inv) == {"p1": 0, "p2": 0}
    first = pay(client, "c1", "59.50", "pay-1").json()  # half of 119.00
    assert settled(client, inv) == {"p1": 1000, "p2": 500}
    refund = client.post(f"/v1/payments/{first['id']}/refunds", json={"amount": "11.90", "currency": "EUR", "reason": "goodwill"},
                         headers={**H, "Idempotency-Key": "ref-1"})
    assert refund.status_code == 201, refund.text
    assert settled(client, inv) == {"p1": 800, "p2": 400}  # 47.60 of 119.00 settled
    pay(client, "c1", "71.40", "pay-2")
    assert settled(client, inv) == {"p1": 2000, "p2": 1000}  # fully paid: exactly the shares
    assert pay(client, "c1", "71.40", "pay-2").status_code == 201  # a replayed payment posts nothing twice
    assert balance(client, "p1") == 2000 and balance(client, "p2") == 1000
    # a credit note for half the net takes back p1's share of it; the paid-over rest is the customer's credit
    invoice(container, "GS-1", 5000, 950, {"p1": 1000}, type_code="381", corrects=inv)
    assert settled(client, inv) == {"p1": 1000, "p2": 1000}
    account = client.get("/v1/partner-accounts/p1", headers=H).json()
    assert [e["amount_minor"] for e in account["entries"]] == [1000, -200, 1200, -1000]
    assert {e["kind"] for e in account["entries"]} == {"revenue_share"} and account["entries"][0]["text"] == "Anteil RE-1"
    # a chargeback takes every share of what that payment paid back
    other = invoice(container, "RE-2", 1000, 190, {"p2": 500}, customer="c2")
    paid = pay(client, "c2", "11.90", "pay-3").json()
    assert settled(client, other) == {"p2": 500}
    assert client.post(f"/v1/payments/{paid['id']}/chargebacks", json={"reason": "fraud"},
                       headers={**H, "Idempotency-Key": "cb-1"}).status_code == 201
    assert settled(client, other) == {"p2": 0}
    assert balance(client, "p2") == 1000
    books = platform_balances(container)
    assert books["partner_payable"] == -2000 and invariants(container) == []


def test_accrual_settles_at_issue_and_a_prepaid_part_counts_as_paid(svc):
    container, client = svc
    partner(container, "p1")
    assert client.get("/v1/revenue-sharing/settings", headers=H).json() == {"settlement_basis": "cash"}
    problem(client.put("/v1/revenue-sharing/settings", json={"settlement_basis": "daily"}, headers=H), 422, "validation-error",
            "settlement_basis")
    prepaid = invoice(container, "RE-P", 10000, 1900, {"p1": 5000}, prepaid=2380)  # cash basis: 23.80 paid from the wallet
    assert settled(client, prepaid) == {"p1": 1000}
    assert client.put("/v1/revenue-sharing/settings", json={"settlement_basis": "accrual"}, headers=H).json()["settlement_basis"] == "accrual"
    inv = invoice(container, "RE-A", 10000, 1900, {"p1": 3333})
    assert settled(client, inv) == {"p1": 3333}
    pay(client, "c1", "119.00", "pay-a", invoice_ids=[inv])
    assert settled(client, inv) == {"p1": 3333}  # accrual: payments change nothing
    invoice(container, "GS-A", 10000, 1900, {"p1": 3333}, type_code="381", corrects=inv)
    assert settled(client, inv) == {"p1": 0}
    assert settled(client, prepaid) == {"p1": 1000}  # the earlier invoice keeps the basis it was issued under
    assert balance(client, "p1") == 1000 and invariants(container) == []


def requested_statements(container):
    with container.engine.connect() as conn:
        rows = conn.execute(select(outbox.table.c.payload).where(outbox.table.c.topic == topics.PAYMENTS)).scalars().all()
    return [body for _, body in map(decode, rows) if isinstance(body, PartnerStatementRequested)]


def issue_389(container, statement, number):
    doc = InvoiceIssued(invoice_id=f"doc-{number}", number=number, type_code="389", customer_id="platform", customer_name="Plattform",
                        currency="EUR", issue_date=TODAY, due_date=TODAY, net_minor=statement["net_minor"], tax_minor=statement["tax_minor"],
                        gross_minor=statement["gross_minor"], tax_breakdown=[], statement_id=statement["id"])
    raw = encode(T, doc)
    make_handler(container)([Message(topics.INVOICES, None, raw), Message(topics.INVOICES, None, raw)])
    post_invoice(container.engine, container.ledger, decode(raw)[0], doc)  # even handed to receivables directly, a 389 is no receivable


def test_fees_statement_vat_and_a_sepa_payout_leave_the_payable_at_zero(svc):
    container, client = svc
    partner(container, "p1")
    inv = invoice(container, "RE-7", 10000, 1900, {"p1": 2000})
    pay(client, "c1", "119.00", "pay-7")
    fee = post(client, "/v1/partner-fees", {"partner_id": "p1", "currency": "EUR", "amount_minor": 300, "description": "Plattformgebühr"},
               "fee-1")
    assert post(client, "/v1/partner-fees", {"partner_id": "p1", "currency": "EUR", "amount_minor": 300, "description": "Plattformgebühr"},
                "fee-1")["id"] == fee["id"]
    problem(client.post("/v1/partner-fees", json={"partner_id": "p1", "currency": "EUR", "amount_minor": 301, "description": "x"},
                        headers={**H, "Idempotency-Key": "fee-1"}), 409, "idempotency-conflict", "Idempotency-Key")
    assert balance(client, "p1") == 1700
    st = post(client, "/v1/partner-statements", {"partner_id": "p1", **PERIOD})
    assert st["lines"] == [{"description": "Anteil Umsatz RE-7", "net_minor": 2000}]
    assert (st["net_minor"], st["tax_minor"], st["gross_minor"], st["fees_minor"], st["payout_due_minor"]) == (2000, 380, 2380, 300, 2080)
    assert st["status"] == "requested" and st["tax_category"] == "S" and st["number"] is None
    [req] = requested_statements(container)
    assert req.statement_id == st["id"] and req.partner.vat_id == "DE123456789" and [l.net_minor for l in req.lines] == [2000]
    problem(client.post("/v1/partner-statements", json={"partner_id": "p1", **PERIOD}, headers=H), 422, "no-settlement-entries",
            "period_start")  # everything is stated already
    # not issued yet: nothing to pay
    assert post(client, "/v1/partner-payouts", {"currency": "EUR", "method": "sepa"}, "po-0")["items"] == []
    issue_389(container, st, "GS-2026-0001")
    issued = client.get(f"/v1/partner-statements/{st['id']}", headers=H).json()
    assert issued["status"] == "issued" and issued["number"] == "GS-2026-0001"
    assert balance(client, "p1") == 2080  # 20.00 share - 3.00 fee + 3.80 VAT
    problem(client.get("/v1/accounts/platform", headers=H), 404, "not-found")  # the 389 made nobody a debtor
    assert platform_balances(container)["tax_payable"] == -1900 + 380
    payout = post(client, "/v1/partner-payouts", {"currency": "EUR", "method": "sepa", "execution_date": "2026-12-01"}, "po-1")
    assert [(i["partner_id"], i["amount_minor"]) for i in payout["items"]] == [("p1", 2080)]
    assert GOOD_IBAN in payout["pain001"] and "20.80" in payout["pain001"]
    assert post(client, "/v1/partner-payouts", {"currency": "EUR", "method": "sepa", "execution_date": "2026-12-01"}, "po-1")["id"] == payout["id"]
    assert client.get(f"/v1/partner-payouts/{payout['id']}", headers=H).json()["pain001"] == payout["pain001"]
    assert client.get(f"/v1/partner-statements/{st['id']}", headers=H).json()["status"] == "paid"
    assert [s["id"] for s in client.get("/v1/partner-statements", headers=H, params={"partner_id": "p1"}).json()] == [st["id"]]
    view = client.get("/v1/partner-accounts/p1", headers=H).json()
    assert view["balance_minor"] == 0
    assert [(e["kind"], e["amount_minor"]) for e in view["entries"]] == [
        ("revenue_share", 2000), ("partner_fee", -300), ("statement_vat", 380), ("partner_payout", -2080)]
    books = platform_balances(container)
    assert books["bank"] == 11900 - 2080 and books["platform_fees"] == -300 and books["revenue"] == -10000 + 2000
    assert invariants(container) == []


def test_stripe_payout_and_a_negative_payable_is_carried(svc):
    container, client = svc
    if "card" not in container.providers:
        pytest.skip("stripe-mock not running")
    partner(container, "s1", method="stripe", stripe="acct_1032D82eZvKYlo2C", iban=None)
    partner(container, "s2", method="stripe", stripe="acct_1032D82eZvKYlo2D", iban=None, country="AT", vat_id="ATU12345678")
    invoice(container, "RE-8", 10000, 1900, {"s1": 1000, "s2": 1000})
    pay(client, "c1", "119.00", "pay-8")
    post(client, "/v1/partner-fees", {"partner_id": "s2", "currency": "EUR", "amount_minor": 1500, "description": "Setup"}, "fee-s2")
    for pid, number in (("s1", "GS-1"), ("s2", "GS-2")):
        issue_389(container, post(client, "/v1/partner-statements", {"partner_id": pid, **PERIOD}), number)
    s2 = client.get("/v1/partner-statements", headers=H, params={"partner_id": "s2"}).json()[0]
    assert s2["tax_category"] == "AE" and s2["tax_minor"] == 0 and s2["payout_due_minor"] == -500
    payout = post(client, "/v1/partner-payouts", {"currency": "EUR", "method": "stripe"}, "po-s")
    assert [(i["partner_id"], i["amount_minor"]) for i in payout["items"]] == [("s1", 1190)]
    assert payout["items"][0]["provider_reference"] and payout["pain001"] is None
    assert payout["carried"] == [{"partner_id": "s2", "payable_minor": -500, "due_minor": -500}]
    assert balance(client, "s1") == 0 and balance(client, "s2") == -500
    assert platform_balances(container)["psp_clearing"] == -1190 + 0 and invariants(container) == []


def test_bad_input_is_refused_naming_the_field_and_changes_nothing(svc):
    container, client = svc
    partner(container, "bad", iban="DE89370400440532013001")  # check digits wrong
    partner(container, "novat", vat_id=None)
    partner(container, "nobank", iban=None)
    invoice(container, "RE-9", 10000, 1900, {"bad": 1000, "novat": 1000, "nobank": 1000})
    pay(client, "c1", "119.00", "pay-9")
    problem(client.post("/v1/partner-statements", json={"partner_id": "ghost", **PERIOD}, headers=H), 404, "not-found", "partner_id")
    problem(client.post("/v1/partner-statements", json={"partner_id": "novat", **PERIOD}, headers=H), 422, "partner-refused",
            "partner.vat_id")
    problem(client.post("/v1/partner-statements", json={"partner_id": "nobank", **PERIOD}, headers=H), 422, "partner-refused",
            "partner.bank")
    problem(client.post("/v1/partner-statements", json={"partner_id": "bad", **PERIOD, "period_end": "2020-01-01"}, headers=H), 422,
            "partner-refused", "period_end")
    problem(client.post("/v1/partner-fees", json={"partner_id": "ghost", "currency": "EUR", "amount_minor": 5, "description": "x"},
                        headers={**H, "Idempotency-Key": "f-ghost"}), 404, "not-found", "partner_id")
    problem(client.post("/v1/partner-fees", json={"partner_id": "bad", "currency": "EUR", "amount_minor": 0, "description": "x"},
                        headers={**H, "Idempotency-Key": "f-0"}), 422, "validation-error", "amount_minor")
    problem(client.get("/v1/partner-accounts/ghost", headers=H), 404, "not-found")
    st = post(client, "/v1/partner-statements", {"partner_id": "bad", **PERIOD})
    issue_389(container, st, "GS-9")
    before = balance(client, "bad")
    problem(client.post("/v1/partner-payouts", json={"currency": "EUR", "method": "sepa"}, headers={**H, "Idempotency-Key": "po-bad"}),
            422, "partner-refused", "bank.iban")
    assert balance(client, "bad") == before == 1190
    assert client.get(f"/v1/partner-statements/{st['id']}", headers=H).json()["status"] == "issued"
    partner(container, "bad")  # the billing factory corrects the IBAN: the same run now pays
    fixed = post(client, "/v1/partner-payouts", {"currency": "EUR", "method": "sepa"}, "po-bad")
    assert [(i["partner_id"], i["amount_minor"]) for i in fixed["items"]] == [("bad", 1190)] and GOOD_IBAN in fixed["pain001"]
    problem(client.post("/v1/partner-payouts", json={"currency": "EUR", "method": "sepa", "partner_ids": ["ghost"]},
                        headers={**H, "Idempotency-Key": "po-ghost"}), 404, "not-found", "partner_ids.0")
    # another tenant sees none of it
    problem(client.get(f"/v1/partner-statements/{st['id']}", headers=OTHER), 404, "not-found")
    problem(client.get("/v1/partner-accounts/bad", headers=OTHER), 404, "not-found")
    problem(client.get(f"/v1/partner-payouts/{fixed['id']}", headers=OTHER), 404, "not-found")
    problem(client.get("/v1/partner-settlements/inv-RE-9", headers=OTHER), 404, "not-found")
    assert client.get("/v1/partner-statements", headers=OTHER).json() == []
    problem(client.post("/v1/partner-statements", json={"partner_id": "bad", **PERIOD}, headers=OTHER), 404, "not-found", "partner_id")
    assert invariants(container) == []


def test_concurrent_payments_and_refunds_settle_each_share_exactly_once(svc):
    """Seven payments arrive at once, then their refunds race: the partners end with exactly their shares, then with nothing,
    and the ledger balances throughout (on PostgreSQL the invoice row is locked while it settles)."""
    from concurrent.futures import ThreadPoolExecutor

    from libs.money import Money
    from services.payment_factory.app.payments import record_payment, refund_payment

    container, client = svc
    partner(container, "p1")
    partner(container, "p2")
    inv = invoice(container, "RE-C", 10000, 1900, {"p1": 3001, "p2": 1499})

    def paid(i: int) -> dict:
        return record_payment(container.engine, container.ledger, T, f"race-pay-{i}", "c1", Money(1700, "EUR"), "bank_transfer", "",
                              [inv])

    with ThreadPoolExecutor(7) as pool:
        payments = list(pool.map(paid, range(7)))  # 7 x 17.00 = 119.00, the gross
    assert settled(client, inv) == {"p1": 3001, "p2": 1499}
    assert balance(client, "p1") == 3001 and balance(client, "p2") == 1499 and invariants(container) == []

    def refunded(p: dict) -> dict:
        return refund_payment(container.engine, container.ledger, T, f"race-refund-{p['id']}", p["id"], Money(1700, "EUR"), "storno")

    with ThreadPoolExecutor(7) as pool:
        list(pool.map(refunded, payments))
    assert settled(client, inv) == {"p1": 0, "p2": 0}
    assert balance(client, "p1") == 0 and balance(client, "p2") == 0 and invariants(container) == []
