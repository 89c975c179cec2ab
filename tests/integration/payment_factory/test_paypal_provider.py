"""The PayPal adapter over HTTP against a local stand-in for PayPal's REST sandbox (tests/support/paypal_standin.py).

PayPal's sandbox is not reachable from where these tests run; the stand-in implements the documented request and
response shapes, the bearer token and PayPal-Request-Id idempotency, so what is checked here is the adapter's side of
the conversation: paths, bodies, amounts, idempotency keys, token handling and the mapping of PayPal's answers.
"""

from decimal import Decimal

import pytest

from services.payment_factory.adapters.paypal_provider import MAX_REQUEST_ID, PayPalProvider, from_paypal, request_id, to_paypal
from services.payment_factory.domain.psp import PaymentStatus, ProviderError, RefundExceedsCaptured
from tests.support.paypal_standin import CLIENT_ID, CLIENT_SECRET, running_paypal_standin
from tests.support.processes import free_port
from tests.support.monotonic import ManualMonotonic as Clock


@pytest.fixture(scope="module")
def standin():
    with running_paypal_standin() as state:
        yield state


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def paypal(standin, clock):
    standin.failures.clear()
    provider = PayPalProvider(CLIENT_ID, CLIENT_SECRET, standin.base_url, payout_receiver="treasury@example.com", clock=clock)
    yield provider
    provider.close()


def authorized(paypal, key, amount=1999, currency="EUR"):
    payment = paypal.authorize(key, amount, currency, "cust-1", "VAULT-1", {})
    assert payment.status is PaymentStatus.AUTHORIZED
    return payment


def test_amounts_are_decimal_strings_with_exactly_the_currencys_decimals():
    assert [to_paypal(1999, "EUR"), to_paypal(1900, "EUR"), to_paypal(1999, "JPY"), to_paypal(5, "KWD")] == \
        ["19.99", "19.00", "1999", "0.005"]
    assert from_paypal({"value": "19.99", "currency_code": "EUR"}).minor == 1999
    assert from_paypal({"value": "1999", "currency_code": "JPY"}).minor == 1999
    with pytest.raises(ProviderError):
        from_paypal({"value": "19.999", "currency_code": "EUR"})  # finer than a cent: refused, never rounded
    assert request_id("k" * 200) == request_id("k" * 200) and len(request_id("k" * 200)) <= MAX_REQUEST_ID
    assert request_id("k" * 200) != request_id("k" * 199)


def test_authorize_then_capture_everything(paypal, standin):
    auth = paypal.authorize("pp-a1", 1999, "EUR", "cust-1", "VAULT-1", {"invoice_id": "RE-1"})
    assert (auth.status, auth.amount_minor, auth.currency, auth.captured_minor) == (PaymentStatus.AUTHORIZED, 1999, "EUR", 0)
    order = next(o for o in standin.orders.values() if auth.reference in o["authorizations"])
    assert order["unit"]["amount"] == {"currency_code": "EUR", "value": "19.99"} and order["unit"]["custom_id"] == "cust-1"
    captured = paypal.capture("pp-a1:cap", auth.reference)
    assert (captured.status, captured.amount_minor, captured.captured_minor) == (PaymentStatus.SUCCEEDED, 1999, 1999)
    assert captured.reference in standin.captures and captured.reference != auth.reference
    assert standin.authorizations[auth.reference]["status"] == "CAPTURED"
    assert paypal.status(captured.reference).status is PaymentStatus.SUCCEEDED
    assert paypal.status(auth.reference).status is PaymentStatus.SUCCEEDED  # the authorization, fully captured


def test_a_partial_capture_leaves_the_rest_authorized_until_voided(paypal, standin):
    auth = authorized(paypal, "pp-p1", 10_000)
    part = paypal.capture("pp-p1:cap1", auth.reference, 2_500)
    assert (part.amount_minor, part.captured_minor) == (2_500, 2_500)
    assert standin.captures[part.reference]["amount"]["value"] == "25.00"
    assert paypal.status(auth.reference).status is PaymentStatus.AUTHORIZED  # PARTIALLY_CAPTURED: more may be captured
    voided = paypal.void("pp-p1:void", auth.reference)
    assert voided.status is PaymentStatus.CANCELED and standin.authorizations[auth.reference]["status"] == "VOIDED"
    with pytest.raises(ProviderError) as refused:
        paypal.capture("pp-p1:cap2", auth.reference, 1_000)
    assert (refused.value.status, refused.value.code) == (422, "AUTHORIZATION_VOIDED")


def test_capturing_more_than_authorized_is_refused(paypal):
    auth = authorized(paypal, "pp-over", 1_000)
    with pytest.raises(ProviderError) as refused:
        paypal.capture("pp-over:cap", auth.reference, 1_001)
    assert (refused.value.status, refused.value.code) == (422, "MAX_CAPTURE_AMOUNT_EXCEEDED")


def test_void_an_authorization(paypal, standin):
    auth = authorized(paypal, "pp-v1", 500)
    voided = paypal.void("pp-v1:void", auth.reference)
    assert (voided.reference, voided.status, voided.amount_minor) == (auth.reference, PaymentStatus.CANCELED, 500)
    assert paypal.void("pp-v1:void", auth.reference) == voided  # a repeat with the same key answers the same
    with pytest.raises(ProviderError) as again:
        paypal.void("pp-v1:void-2", auth.reference)  # a new key is a new request: PayPal says it was voided before
    assert again.value.code == "PREVIOUSLY_VOIDED"


def test_refunds_partial_then_above_what_is_left_is_refused_then_the_rest(paypal, standin):
    capture = paypal.capture("pp-r1:cap", authorized(paypal, "pp-r1", 5_000).reference)
    first = paypal.refund("pp-r1:rf1", capture.reference, 2_000)
    assert (first.amount_minor, first.currency, first.payment_reference, first.status) == (2_000, "EUR", capture.reference, "completed")
    with pytest.raises(RefundExceedsCaptured) as refused:
        paypal.refund("pp-r1:rf2", capture.reference, 3_001)
    assert (refused.value.status, refused.value.code) == (422, "REFUND_AMOUNT_EXCEEDED")
    assert isinstance(refused.value, ProviderError)  # callers that know only the port's error still catch it
    assert Decimal(standin.captures[capture.reference]["refunded"]) == Decimal("20.00")  # the refused one changed nothing
    rest = paypal.refund("pp-r1:rf3", capture.reference)
    assert rest.amount_minor == 3_000
    after = paypal.status(capture.reference)
    assert (after.status, after.refunded_minor) == (PaymentStatus.SUCCEEDED, 5_000)
    with pytest.raises(ProviderError) as nothing_left:
        paypal.refund("pp-r1:rf4", capture.reference, 1)
    assert nothing_left.value.code == "CAPTURE_FULLY_REFUNDED"


def test_every_write_is_idempotent_by_its_key(paypal, standin):
    orders, auths, captures, refunds, payouts = (len(standin.orders), len(standin.authorizations), len(standin.captures),
                                                 len(standin.refunds), len(standin.payouts))
    a1 = paypal.authorize("pp-i1", 700, "EUR", "cust-2", "VAULT-2", {})
    assert paypal.authorize("pp-i1", 700, "EUR", "cust-2", "VAULT-2", {}) == a1
    c1 = paypal.capture("pp-i1:cap", a1.reference, 300)
    assert paypal.capture("pp-i1:cap", a1.reference, 300) == c1
    r1 = paypal.refund("pp-i1:rf", c1.reference, 100)
    assert paypal.refund("pp-i1:rf", c1.reference, 100) == r1
    p1 = paypal.payout("pp-i1:po", 250, "EUR")
    assert paypal.payout("pp-i1:po", 250, "EUR") == p1
    assert (len(standin.orders) - orders, len(standin.authorizations) - auths, len(standin.captures) - captures,
            len(standin.refunds) - refunds, len(standin.payouts) - payouts) == (1, 1, 1, 1, 1)
    assert Decimal(standin.authorizations[a1.reference]["captured"]) == Decimal("3.00")
    assert Decimal(standin.captures[c1.reference]["refunded"]) == Decimal("1.00")


def test_yen_has_no_decimals_and_euro_two(paypal, standin):
    yen = authorized(paypal, "pp-jpy", 1999, "JPY")
    order = next(o for o in standin.orders.values() if yen.reference in o["authorizations"])
    assert order["unit"]["amount"] == {"currency_code": "JPY", "value": "1999"}
    part = paypal.capture("pp-jpy:cap", yen.reference, 999)
    assert (part.amount_minor, part.currency, standin.captures[part.reference]["amount"]["value"]) == (999, "JPY", "999")
    euro = authorized(paypal, "pp-eur", 1999, "EUR")
    euro_part = paypal.capture("pp-eur:cap", euro.reference, 999)
    assert (euro_part.amount_minor, standin.captures[euro_part.reference]["amount"]["value"]) == (999, "9.99")
    refund = paypal.refund("pp-jpy:rf", part.reference, 1)
    assert (refund.amount_minor, refund.currency) == (1, "JPY")
    assert standin.refunds[refund.reference]["amount"] == {"currency_code": "JPY", "value": "1"}


def test_payouts_and_transfers_are_one_item_batches(paypal, standin):
    batch = paypal.transfer("pp-t1", 12_345, "EUR", "partner@example.com")
    sent = standin.payouts[batch]
    assert sent["items"][0]["amount"] == {"currency": "EUR", "value": "123.45"}
    assert (sent["items"][0]["recipient_type"], sent["items"][0]["receiver"]) == ("EMAIL", "partner@example.com")
    assert standin.payouts[paypal.payout("pp-t2", 500, "JPY")]["items"][0]["amount"] == {"currency": "JPY", "value": "500"}
    nobody = PayPalProvider(CLIENT_ID, CLIENT_SECRET, standin.base_url)
    with pytest.raises(ProviderError) as refused:
        nobody.payout("pp-t3", 500, "EUR")
    assert refused.value.code == "no_payout_receiver"
    nobody.close()


def test_an_expired_token_is_fetched_again_before_the_call(paypal, standin, clock):
    authorized(paypal, "pp-tok1", 100)
    issued = standin.tokens_issued
    authorized(paypal, "pp-tok2", 100)
    assert standin.tokens_issued == issued  # still valid: reused
    clock.now += 32400  # PayPal's expires_in has passed
    authorized(paypal, "pp-tok3", 100)
    assert standin.tokens_issued == issued + 1


def test_a_token_paypal_no_longer_accepts_is_replaced_and_the_call_made_once(paypal, standin):
    authorized(paypal, "pp-rev1", 100)
    issued, orders = standin.tokens_issued, len(standin.orders)
    standin.revoke_tokens()  # PayPal answers 401 to the cached token
    authorized(paypal, "pp-rev2", 100)
    assert standin.tokens_issued == issued + 1 and len(standin.orders) == orders + 1


def test_wrong_credentials_are_a_provider_error(standin):
    wrong = PayPalProvider(CLIENT_ID, "not-the-secret", standin.base_url)
    with pytest.raises(ProviderError) as refused:
        wrong.authorize("pp-cred", 100, "EUR", "c", "VAULT-1", {})
    assert (refused.value.status, refused.value.code) == (401, "invalid_client")
    wrong.close()


def test_a_server_error_is_retried_once_with_the_same_request_id(paypal, standin):
    auth = authorized(paypal, "pp-5xx", 1_000)
    captures = len(standin.captures)
    standin.fail_next(503)
    captured = paypal.capture("pp-5xx:cap", auth.reference)
    assert captured.status is PaymentStatus.SUCCEEDED and len(standin.captures) == captures + 1
    standin.fail_next(500, 500)
    with pytest.raises(ProviderError) as failed:
        paypal.refund("pp-5xx:rf", captured.reference, 100)
    assert (failed.value.status, failed.value.code) == (500, "INTERNAL_SERVER_ERROR")
    assert standin.captures[captured.reference]["refunded"] == "0"


def test_client_errors_map_to_provider_errors_with_paypals_issue(paypal, standin):
    with pytest.raises(ProviderError) as unknown:
        paypal.refund("pp-404", "NO-SUCH-CAPTURE")
    assert (unknown.value.status, unknown.value.code) == (404, "INVALID_RESOURCE_ID")
    standin.fail_next(400)
    with pytest.raises(ProviderError) as bad:
        paypal.status("ANY")
    assert (bad.value.status, bad.value.code) == (400, "INVALID_REQUEST")


def test_without_a_saved_method_the_payer_must_approve_first(paypal, standin):
    pending = paypal.authorize("pp-approve", 1_000, "EUR", "cust-3", "", {})
    assert pending.status is PaymentStatus.REQUIRES_ACTION and standin.orders[pending.reference]["status"] == "PAYER_ACTION_REQUIRED"


def test_an_unreachable_paypal_is_a_provider_error():
    gone = PayPalProvider(CLIENT_ID, CLIENT_SECRET, f"http://127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(ProviderError) as failed:
        gone.status("X")
    assert failed.value.code == "unreachable"
    gone.close()
