"""Stripe through the port against stripe-mock; signed webhooks from Stripe and PayPal through the idempotent inbox."""

import base64
import hashlib
import hmac
import json
import os
import time
import zlib
from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from services.payment_factory.adapters.paypal_webhooks import PayPalWebhooks
from services.payment_factory.adapters.stripe_provider import StripeProvider
from services.payment_factory.domain.psp import EventKind, PaymentStatus, WebhookRejected
from tests.integration.payment_factory.test_payments_api import H, account, issue, problem, svc  # noqa: F401  (svc: the fixture)

SECRET = "whsec_test_secret"


def stripe_base() -> str:
    base = os.environ.get("CLOUDBILL_STRIPE_API_BASE")
    if not base:
        if os.environ.get("CLOUDBILL_REQUIRE_INFRA") == "1":
            pytest.fail("CLOUDBILL_STRIPE_API_BASE is not set but the real servers are required (stack.sh starts stripe-mock)")
        pytest.skip("stripe-mock not running")
    return base


@pytest.fixture
def svc_settings():
    return {"stripe_api_key": "sk_test_123", "stripe_webhook_secret": SECRET, "stripe_api_base": stripe_base()}


def test_the_stripe_adapter_speaks_to_stripe_mock():
    p = StripeProvider("sk_test_123", SECRET, stripe_base())
    auth = p.authorize("k-auth", 11900, "EUR", "c1", "pm_card_visa", {"invoice": "RE-1"})
    assert auth.reference.startswith("pi_") and auth.amount_minor == 11900 and auth.currency == "EUR"
    assert auth.status is PaymentStatus.REQUIRES_ACTION  # stripe-mock answers with a fixture status, mapped into ours
    refund = p.refund("k-ref", auth.reference, 500)
    assert refund.reference.startswith("re_") and refund.amount_minor == 500 and refund.status == "succeeded"
    assert p.transfer("k-tr", 100, "EUR", "acct_1").startswith("tr_")
    assert p.payout("k-po", 100, "EUR").startswith("po_")
    assert p.status(auth.reference).reference == auth.reference


def signed(event: dict, secret: str = SECRET, at: int | None = None) -> tuple[bytes, dict]:
    body = json.dumps(event).encode()
    ts = at if at is not None else int(time.time())
    sig = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return body, {"Stripe-Signature": f"t={ts},v1={sig}", "Content-Type": "application/json"}


def stripe_event(event_id, type_, obj):
    return {"id": event_id, "object": "event", "type": type_, "created": int(time.time()), "data": {"object": obj}}


def post_stripe(client, body, headers):
    return client.post("/v1/payments/webhooks/stripe/tenant-p", content=body, headers=headers)


def test_stripe_webhooks_pay_refund_and_charge_back_once_and_refuse_forgeries(svc):
    container, client = svc
    issue(container, "c1", "RE-500", 11900)
    succeeded = stripe_event("evt_1", "payment_intent.succeeded", {"id": "pi_A", "object": "payment_intent", "amount": 11900,
                                                                  "amount_received": 11900, "currency": "eur", "metadata": {"customer_id": "c1"}})
    body, headers = signed(succeeded)
    first = post_stripe(client, body, headers)
    assert first.status_code == 200 and first.json()["duplicate"] is False and first.json()["outcome"].startswith("payment ")
    assert account(client, "c1")["balance_minor"] == 0
    replay = post_stripe(client, body, headers)
    assert replay.json()["duplicate"] is True and account(client, "c1")["received_minor"] == 11900

    forged_body = body.replace(b"11900", b"99900")
    problem(post_stripe(client, forged_body, headers), 400, "webhook-rejected", "signature")
    problem(post_stripe(client, *signed(succeeded, secret="whsec_other")), 400, "webhook-rejected")
    stale = stripe_event("evt_old", "payment_intent.succeeded", {**succeeded["data"]["object"], "id": "pi_B"})
    problem(post_stripe(client, *signed(stale, at=int(time.time()) - 3600)), 400, "webhook-rejected")
    problem(post_stripe(client, body, {"Content-Type": "application/json"}), 400, "webhook-rejected")
    assert account(client, "c1")["received_minor"] == 11900  # none of the refused events changed anything

    refunded = stripe_event("evt_2", "charge.refunded", {"id": "ch_A", "payment_intent": "pi_A", "amount_refunded": 1000, "currency": "eur"})
    assert post_stripe(client, *signed(refunded)).json()["outcome"].startswith("refund ")
    more = stripe_event("evt_3", "charge.refunded", {"id": "ch_A", "payment_intent": "pi_A", "amount_refunded": 1500, "currency": "eur"})
    post_stripe(client, *signed(more))
    assert account(client, "c1")["balance_minor"] == -1500  # refunds of 10.00 and 5.00, not 10.00 + 15.00
    dispute = stripe_event("evt_4", "charge.dispute.created", {"id": "dp_A", "payment_intent": "pi_A", "amount": 11900,
                                                              "currency": "eur", "reason": "fraudulent"})
    outcome = post_stripe(client, *signed(dispute)).json()["outcome"]
    assert outcome.startswith("refused:")  # a payment partly refunded is not charged back a second time here
    with container.engine.connect() as conn:
        assert container.ledger.check_invariants(conn, "tenant-p") == []


def test_a_dispute_on_an_unrefunded_payment_reverses_it(svc):
    container, client = svc
    issue(container, "c2", "RE-600", 5000)
    post_stripe(client, *signed(stripe_event("evt_p", "payment_intent.succeeded", {
        "id": "pi_C", "amount_received": 5000, "currency": "eur", "metadata": {"customer_id": "c2"}})))
    assert account(client, "c2")["balance_minor"] == 0
    r = post_stripe(client, *signed(stripe_event("evt_d", "charge.dispute.created", {"id": "dp_C", "payment_intent": "pi_C",
                                                                                    "amount": 5000, "currency": "eur", "reason": "fraudulent"})))
    assert r.json()["outcome"].startswith("chargeback ")
    assert account(client, "c2")["balance_minor"] == -5000


@pytest.fixture(scope="module")
def paypal_cert():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "messageverificationcerts.paypal.test")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key()).serial_number(1)
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30)).sign(key, hashes.SHA256()))
    return key, cert.public_bytes(serialization.Encoding.PEM)


CERT_URL = "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-test"


def paypal_signed(key, event: dict, webhook_id="WH-1", at: datetime | None = None, cert_url=CERT_URL):
    body = json.dumps(event).encode()
    when = (at or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    message = f"tx-1|{when}|{webhook_id}|{zlib.crc32(body)}".encode()
    sig = base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()
    return body, {"PAYPAL-TRANSMISSION-ID": "tx-1", "PAYPAL-TRANSMISSION-TIME": when, "PAYPAL-TRANSMISSION-SIG": sig,
                  "PAYPAL-CERT-URL": cert_url, "PAYPAL-AUTH-ALGO": "SHA256withRSA"}


CAPTURE = {"id": "WH-EVT-1", "event_type": "PAYMENT.CAPTURE.COMPLETED", "create_time": "2026-11-23T10:00:00Z",
           "resource": {"id": "CAP-1", "amount": {"value": "59.50", "currency_code": "EUR"}, "custom_id": "c3"}}


def test_paypal_signatures_are_checked_against_the_certificate(paypal_cert):
    key, pem = paypal_cert
    fetched = []
    verifier = PayPalWebhooks("WH-1", lambda url: fetched.append(url) or pem)
    event = verifier.verify_webhook(*paypal_signed(key, CAPTURE))
    assert (event.kind, event.payment_reference, event.amount_minor, event.currency, event.customer_id) == \
        (EventKind.PAYMENT_SUCCEEDED, "CAP-1", 5950, "EUR", "c3")
    assert fetched == [CERT_URL]
    body, headers = paypal_signed(key, CAPTURE)
    for bad_body, bad_headers in ((body.replace(b"59.50", b"95.50"), headers),
                                  paypal_signed(key, CAPTURE, webhook_id="WH-other"),
                                  paypal_signed(key, CAPTURE, at=datetime.now(timezone.utc) - timedelta(hours=1)),
                                  paypal_signed(key, CAPTURE, cert_url="https://evil.example/cert.pem"),
                                  (body, {k: v for k, v in headers.items() if k != "PAYPAL-TRANSMISSION-SIG"})):
        with pytest.raises(WebhookRejected):
            verifier.verify_webhook(bad_body, bad_headers)


def test_paypal_capture_webhook_records_the_payment_once(svc, paypal_cert):
    container, client = svc
    key, pem = paypal_cert
    container.webhook_verifiers["paypal"] = PayPalWebhooks("WH-1", lambda url: pem)  # PayPal's cert server is not reachable here
    issue(container, "c3", "RE-700", 5950)
    body, headers = paypal_signed(key, CAPTURE)
    assert client.post("/v1/payments/webhooks/paypal/tenant-p", content=body, headers=headers).json()["duplicate"] is False
    assert client.post("/v1/payments/webhooks/paypal/tenant-p", content=body, headers=headers).json()["duplicate"] is True
    view = account(client, "c3")
    assert view["balance_minor"] == 0 and view["received_minor"] == 5950


def test_refunding_a_card_payment_refunds_it_at_stripe_first(svc):
    container, client = svc
    issue(container, "c4", "RE-900", 2000)
    post_stripe(client, *signed(stripe_event("evt_c4", "payment_intent.succeeded", {
        "id": "pi_D", "amount_received": 2000, "currency": "eur", "metadata": {"customer_id": "c4"}})))
    payment_id = client.get("/v1/accounts/c4", headers=H).json()["statement"][-1]["transfer_id"]
    with container.engine.connect() as conn:
        payment_id = container.ledger.get_transfer(conn, "tenant-p", payment_id).metadata["payment_id"]
    r = client.post(f"/v1/payments/{payment_id}/refunds", json={"amount": "7.00", "currency": "EUR"}, headers={**H, "Idempotency-Key": "rf"})
    assert r.status_code == 201, r.text
    with container.engine.connect() as conn:
        meta = container.ledger.get_transfer(conn, "tenant-p", r.json()["transfer_id"]).metadata
    assert meta["provider_refund"].startswith("re_")  # stripe-mock's refund id, recorded with the posting
    # Stripe's later charge.refunded (refunded total 7.00) finds nothing new to post
    late = post_stripe(client, *signed(stripe_event("evt_c4r", "charge.refunded", {"id": "ch_D", "payment_intent": "pi_D",
                                                                                 "amount_refunded": 700, "currency": "eur"})))
    assert late.json()["outcome"] == "ignored: nothing new refunded" and account(client, "c4")["balance_minor"] == -700


def test_a_card_collection_starts_at_stripe_and_is_settled_by_its_webhook(svc):
    container, client = svc
    issue(container, "c5", "RE-990", 4200)
    client.put("/v1/accounts/c5/settings", json={"payment_method": "card"}, headers=H)
    run = client.post("/v1/payments/collection-runs", json={"customer_ids": ["c5"], "run_on": "2026-11-23"},
                      headers={**H, "Idempotency-Key": "card-run"}).json()
    [col] = run["collections"]
    assert (col["method"], col["amount_minor"], col["status"]) == ("card", 4200, "submitted")  # stripe-mock: not yet succeeded
    again = client.post("/v1/payments/collection-runs", json={"customer_ids": ["c5"], "run_on": "2026-11-24"},
                        headers={**H, "Idempotency-Key": "card-run-2"}).json()
    assert again["collections"] == []  # in flight: not charged twice
    done = stripe_event("evt_c5", "payment_intent.succeeded", {"id": "pi_E", "amount_received": 4200, "currency": "eur",
                                                              "metadata": {"customer_id": "c5", "collection": col["id"]}})
    assert post_stripe(client, *signed(done)).json()["outcome"].startswith("payment ")
    from sqlalchemy import select
    from services.payment_factory.adapters.tables import collections
    with container.engine.connect() as conn:
        status = conn.execute(select(collections.c.status).where(collections.c.id == col["id"])).scalar()
    assert status == "paid" and account(client, "c5")["balance_minor"] == 0
