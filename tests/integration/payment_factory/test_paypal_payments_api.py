"""PayPal through the payment factory's HTTP API: a customer whose settings name PayPal is collected and refunded there.

PayPal itself is played by the local stand-in for its sandbox (tests/support/paypal_standin.py), reached over HTTP.
"""

from decimal import Decimal

import pytest

from tests.integration.payment_factory.test_payments_api import H, account, issue, svc  # noqa: F401  (svc: the fixture)
from tests.support.paypal_standin import CLIENT_ID, CLIENT_SECRET, running_paypal_standin


@pytest.fixture
def standin():
    with running_paypal_standin() as state:
        yield state


@pytest.fixture
def svc_settings(standin):
    return {"paypal_client_id": CLIENT_ID, "paypal_client_secret": CLIENT_SECRET, "paypal_api_base": standin.base_url}


def collect(client, customer, key):
    r = client.post("/v1/payments/collection-runs", json={"customer_ids": [customer], "run_on": "2026-11-23"},
                    headers={**H, "Idempotency-Key": key})
    assert r.status_code == 201, r.text
    return r.json()["collections"]


def test_a_paypal_customer_is_collected_and_refunded_through_paypal(svc, standin):
    container, client = svc
    issue(container, "pp1", "RE-PP1", 4200)
    r = client.put("/v1/accounts/pp1/settings", json={"payment_method": "paypal", "payment_method_ref": "VAULT-PP1"}, headers=H)
    assert r.status_code == 200, r.text
    [col] = collect(client, "pp1", "pp-run")
    assert (col["method"], col["amount_minor"], col["status"]) == ("paypal", 4200, "paid")
    [order] = standin.orders.values()
    assert order["unit"]["amount"] == {"currency_code": "EUR", "value": "42.00"} and order["unit"]["custom_id"] == "pp1"
    [capture] = standin.captures.values()
    assert capture["amount"]["value"] == "42.00" and account(client, "pp1")["balance_minor"] == 0
    assert collect(client, "pp1", "pp-run") == [col] and len(standin.captures) == 1  # the same run again charges nothing twice

    r = client.post(f"/v1/payments/{col['payment_id']}/refunds", json={"amount": "7.00", "currency": "EUR"},
                    headers={**H, "Idempotency-Key": "pp-rf"})
    assert r.status_code == 201, r.text
    [refund] = standin.refunds.values()
    assert refund["amount"] == {"currency_code": "EUR", "value": "7.00"} and Decimal(capture["refunded"]) == Decimal("7.00")
    with container.engine.connect() as conn:
        assert container.ledger.get_transfer(conn, "tenant-p", r.json()["transfer_id"]).metadata["provider_refund"] == refund["id"]
    assert account(client, "pp1")["balance_minor"] == -700


def test_paypal_refusing_a_refund_posts_nothing(svc, standin):
    container, client = svc
    issue(container, "pp2", "RE-PP2", 1000)
    client.put("/v1/accounts/pp2/settings", json={"payment_method": "paypal", "payment_method_ref": "VAULT-PP2"}, headers=H)
    [col] = collect(client, "pp2", "pp-run-2")
    standin.fail_next(500, 500)
    r = client.post(f"/v1/payments/{col['payment_id']}/refunds", json={"amount": "2.00", "currency": "EUR"},
                    headers={**H, "Idempotency-Key": "pp-rf-2"})
    assert r.status_code == 502 and r.json()["errors"][0]["message"] == "paypal: INTERNAL_SERVER_ERROR"
    assert standin.refunds == {} and account(client, "pp2")["balance_minor"] == 0


def test_without_a_saved_paypal_method_nothing_is_charged(svc, standin):
    container, client = svc
    issue(container, "pp3", "RE-PP3", 1500)
    client.put("/v1/accounts/pp3/settings", json={"payment_method": "paypal"}, headers=H)
    [col] = collect(client, "pp3", "pp-run-3")
    assert (col["status"], col["payment_id"]) == ("submitted", None)  # the payer has to approve the order at PayPal first
    [order] = standin.orders.values()
    assert order["status"] == "PAYER_ACTION_REQUIRED" and standin.captures == {}
    assert account(client, "pp3")["balance_minor"] == -1500  # still owed


def test_a_malformed_saved_method_is_refused(svc):
    _, client = svc
    r = client.put("/v1/accounts/pp4/settings", json={"payment_method": "paypal", "payment_method_ref": "has spaces"}, headers=H)
    assert r.status_code == 422 and "payment_method_ref" in r.text
