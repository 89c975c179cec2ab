"""The payment factory's HTTP API on SQLite and PostgreSQL: matching, refunds, chargebacks, wallet, account screen, bad input."""

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from libs.contracts.envelope import Envelope
from libs.contracts.events import InvoiceIssued
from libs.platform.bus.inprocess import InProcessBus
from services.payment_factory.app.receivables import post_invoice
from services.payment_factory.bootstrap import build
from services.payment_factory.entrypoints.http import create_app
from services.payment_factory.settings import PaymentSettings
from tests.integration.payment_factory.conftest import pg_url

T = "tenant-p"
TOKEN = "internal-test-token"
H = {"X-Cloudbill-Internal-Token": TOKEN, "X-Cloudbill-Tenant": T}


@pytest.fixture
def svc_settings():
    return {}


@pytest.fixture(params=["sqlite", "postgres"])
def svc(request, tmp_path, svc_settings):
    common = {"data_dir": tmp_path, "internal_token": TOKEN, "daily_jobs": False, **svc_settings}
    schema = None
    if request.param == "postgres":
        schema = f"pay_api_{uuid.uuid4().hex[:8]}"
        settings = PaymentSettings(**common, database_url=pg_url(), database_schema=schema)  # embedded bus, real database
    else:
        settings = PaymentSettings(**common)
    container = build(settings, bus=InProcessBus())
    with TestClient(create_app(container)) as client:
        yield container, client
    if schema:
        with container.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    container.close()


def issue(container, customer, number, gross, due_days=14, currency="EUR", type_code="380", corrects=None):
    net = round(gross / 1.19)
    inv = InvoiceIssued(invoice_id=f"inv-{number}", number=number, type_code=type_code, customer_id=customer, customer_name="Kunde",
                        currency=currency, issue_date=date(2026, 11, 1), due_date=date(2026, 11, 1) + timedelta(days=due_days),
                        net_minor=net, tax_minor=gross - net, gross_minor=gross, tax_breakdown=[], corrects_invoice_id=corrects)
    env = Envelope(type="InvoiceIssued.v1", tenant_id=T, body=inv.model_dump(mode="json"))
    post_invoice(container.engine, container.ledger, env, inv)
    post_invoice(container.engine, container.ledger, env, inv)  # a redelivery posts nothing twice
    return inv.invoice_id


def pay(client, customer, amount, key, **extra):
    return client.post("/v1/payments", json={"customer_id": customer, "amount": amount, "currency": "EUR", **extra},
                       headers={**H, "Idempotency-Key": key})


def account(client, customer, **params):
    """The account screen without its default period end (now), so two reads compare equal when nothing changed."""
    r = client.get(f"/v1/accounts/{customer}", headers=H, params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    body.pop("statement_to")
    return body


def problem(r, status, slug, field=None):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"].endswith("/" + slug), body
    if field:
        assert body["errors"][0]["field"] == field, body
    return body


def invariants(container):
    with container.engine.connect() as conn:
        return container.ledger.check_invariants(conn, T)


def test_matching_full_partial_several_and_over_payment(svc):
    container, client = svc
    a = issue(container, "c1", "RE-1", 11900, due_days=10)
    b = issue(container, "c1", "RE-2", 5950, due_days=20)
    assert account(client, "c1")["balance_minor"] == -17850
    partial = pay(client, "c1", "50.00", "p1", reference="RE-2").json()
    assert partial["allocations"] == [{"invoice_id": b, "amount_minor": 5000}] and partial["unallocated_minor"] == 0
    several = pay(client, "c1", "130.00", "p2").json()  # settles RE-1 (oldest) and the rest of RE-2, 1.50 over
    assert several["allocations"] == [{"invoice_id": a, "amount_minor": 11900}, {"invoice_id": b, "amount_minor": 950}]
    assert several["unallocated_minor"] == 150
    view = account(client, "c1")
    assert view["open_items"] == [] and view["balance_minor"] == 150
    assert view["charges_minor"] == 17850 and view["received_minor"] == 18000
    assert [l["text"] for l in view["statement"]] == ["Rechnung RE-1", "Rechnung RE-2", "Geldeingang RE-2", "Geldeingang"]
    assert view["closing_balance_minor"] == 150 and invariants(container) == []


def test_statement_over_a_period_starts_from_the_opening_balance(svc):
    container, client = svc
    issue(container, "c2", "RE-10", 1190)
    cut = datetime.now(timezone.utc) + timedelta(milliseconds=5)
    import time
    time.sleep(0.02)
    pay(client, "c2", "5.00", "p-c2")
    later = account(client, "c2", **{"from": cut.isoformat()})
    assert later["opening_balance_minor"] == -1190 and [l["amount_minor"] for l in later["statement"]] == [500]
    assert later["closing_balance_minor"] == -690
    earlier = account(client, "c2", to=cut.isoformat())
    assert [l["amount_minor"] for l in earlier["statement"]] == [-1190]
    problem(client.get("/v1/accounts/c2", headers=H, params={"from": "2026-11-01T00:00:00"}), 422, "validation-error", "from")


def test_refunds_reopen_settled_invoices_and_never_exceed_the_payment(svc):
    container, client = svc
    inv = issue(container, "c3", "RE-20", 10000)
    payment = pay(client, "c3", "120.00", "p-c3").json()  # 20.00 over
    url = f"/v1/payments/{payment['id']}/refunds"
    first = client.post(url, json={"amount": "30.00", "currency": "EUR"}, headers={**H, "Idempotency-Key": "r1"})
    assert first.status_code == 201, first.text
    assert first.json()["reopened"] == [{"invoice_id": inv, "amount_minor": 1000}]  # 20.00 from the over-payment, 10.00 reopens
    again = client.post(url, json={"amount": "30.00", "currency": "EUR"}, headers={**H, "Idempotency-Key": "r1"})
    assert again.json()["id"] == first.json()["id"]
    before = account(client, "c3")
    problem(client.post(url, json={"amount": "90.01", "currency": "EUR"}, headers={**H, "Idempotency-Key": "r2"}), 422,
            "refund-exceeds-payment", "amount")
    problem(client.post(url, json={"amount": "1.00", "currency": "USD"}, headers={**H, "Idempotency-Key": "r3"}), 422,
            "payment-refused", "currency")
    problem(client.post("/v1/payments/pay-nope/refunds", json={"amount": "1.00", "currency": "EUR"}, headers={**H, "Idempotency-Key": "r4"}),
            404, "not-found", "payment_id")
    after = account(client, "c3")
    assert after == before  # refused requests changed nothing
    assert after["open_items"][0]["outstanding_minor"] == 1000 and after["balance_minor"] == -1000
    assert after["statement"][-1]["text"] == "Erstattung"
    assert invariants(container) == []


def test_a_chargeback_reverses_the_payment_and_reopens_its_invoices(svc):
    container, client = svc
    inv = issue(container, "c4", "RE-30", 5000)
    payment = pay(client, "c4", "50.00", "p-c4", method="card").json()
    assert account(client, "c4")["open_items"] == []
    r = client.post(f"/v1/payments/{payment['id']}/chargebacks", json={"reason": "fraudulent"}, headers={**H, "Idempotency-Key": "cb1"})
    assert r.status_code == 201, r.text
    view = account(client, "c4")
    assert view["balance_minor"] == -5000 and view["open_items"][0]["invoice_id"] == inv
    assert view["statement"][-1] == {**view["statement"][-1], "text": "Rückbuchung fraudulent", "amount_minor": -5000}
    problem(client.post(f"/v1/payments/{payment['id']}/chargebacks", json={"reason": "again"}, headers={**H, "Idempotency-Key": "cb2"}),
            409, "chargeback-refused", "payment_id")
    problem(client.post(f"/v1/payments/{payment['id']}/refunds", json={"amount": "1.00", "currency": "EUR"},
                        headers={**H, "Idempotency-Key": "r-after-cb"}), 409, "refund-refused")
    assert invariants(container) == []


def test_wrong_currency_and_overdrawing_the_wallet_are_refused_and_change_nothing(svc):
    container, client = svc
    issue(container, "c5", "RE-40", 1000)
    problem(client.post("/v1/payments", json={"customer_id": "c5", "amount": "10.00", "currency": "USD"},
                        headers={**H, "Idempotency-Key": "usd"}), 422, "payment-refused", "currency")
    top = client.post("/v1/accounts/c5/wallet/top-ups", json={"amount": "10.00", "currency": "EUR"}, headers={**H, "Idempotency-Key": "t1"})
    assert top.status_code == 201 and top.json()["wallet_minor"] == 1000
    spend = client.post("/v1/accounts/c5/wallet/charges", json={"amount": "7.00", "currency": "EUR"}, headers={**H, "Idempotency-Key": "w1"})
    assert spend.json()["wallet_minor"] == 300
    before = account(client, "c5")
    problem(client.post("/v1/accounts/c5/wallet/charges", json={"amount": "3.01", "currency": "EUR"}, headers={**H, "Idempotency-Key": "w2"}),
            409, "insufficient-funds", "amount")
    assert account(client, "c5") == before and before["wallet_minor"] == 300
    assert invariants(container) == []


def test_the_service_expires_lapsed_holds_and_releases_the_wallet(svc):
    from services.payment_factory.domain.ledger import Leg, TransferRequest, TransferStatus
    from services.payment_factory.domain.ledger_accounts import AccountPurpose, AccountSpec
    container, client = svc
    client.post("/v1/accounts/c6/wallet/top-ups", json={"amount": "10.00", "currency": "EUR"}, headers={**H, "Idempotency-Key": "t6"})
    now = container.clock.now()
    with container.engine.begin() as conn:
        wallet = container.ledger.open_account(conn, T, AccountSpec("customer:c6:prepaid_wallet:EUR", AccountPurpose.PREPAID_WALLET, "EUR",
                                                                    "customer", "c6")).id
        rev = container.ledger.open_account(conn, T, AccountSpec("platform:revenue:EUR", AccountPurpose.REVENUE, "EUR", "platform")).id
        lapsed = container.ledger.hold(conn, T, TransferRequest("h-old", (Leg(wallet, rev, 600, "EUR"),), pending=True,
                                                                expires_at=now - timedelta(seconds=1)))
        live = container.ledger.hold(conn, T, TransferRequest("h-new", (Leg(wallet, rev, 300, "EUR"),), pending=True,
                                                              expires_at=now + timedelta(hours=1)))
    assert account(client, "c6")["wallet_minor"] == 100
    assert container.expire_holds_step() is False
    with container.engine.connect() as conn:
        assert container.ledger.get_transfer(conn, T, lapsed.id).status is TransferStatus.EXPIRED
        assert container.ledger.get_transfer(conn, T, live.id).status is TransferStatus.PENDING
    assert account(client, "c6")["wallet_minor"] == 700
    assert invariants(container) == []
