"""PayPal behind the payment-method port, over PayPal's REST API with httpx.

- Access: OAuth2 client credentials (POST /v1/oauth2/token with the app's client id and secret);
  the bearer token is kept until shortly before its `expires_in`, fetched again then, and once
  more when PayPal answers 401 anyway (revoked or expired early), after which the call is repeated.
- authorize: Orders v2, an order with intent AUTHORIZE and one purchase unit (our customer id as
  `custom_id`, which PayPal's webhooks carry back). With a saved payment method (`method_ref`: a
  PayPal vault id) the payer need not be present and the order is authorized at once
  (POST /v2/checkout/orders/{id}/authorize); the port's reference is then the authorization id.
  Without one the payer must approve the order first: REQUIRES_ACTION, the reference is the order.
- capture (all or part): POST /v2/payments/authorizations/{id}/capture; the reference returned is
  the capture id, which refunds and status use. void: .../authorizations/{id}/void.
- refund (all or part): POST /v2/payments/captures/{id}/refund. More than is left of the capture
  is refused by PayPal (422 REFUND_AMOUNT_EXCEEDED) and raised as RefundExceedsCaptured.
- transfer (to a partner) and payout (to our own PayPal account, `payout_receiver`): Payouts v1,
  one batch of one item each.
- status: GET /v2/payments/captures/{id}, or the authorization when the reference is one.
- webhooks: verified and normalized by PayPalWebhooks (certificate scheme).

Every write carries our idempotency key as `PayPal-Request-Id` (hashed when longer than PayPal's
limit), so a retried call (we retry once on a 5xx or a lost connection) never captures, refunds
or pays out twice. Amounts go to PayPal as decimal strings with exactly the currency's decimals
and come back into integer minor units through libs.money, never through float. PayPal's
4xx/5xx answers become ProviderError with PayPal's issue (or error name) as the code.

Tests run it against tests/support/paypal_standin.py, a local stand-in for PayPal's sandbox,
which is not reachable from where the tests run.
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any, Callable, Mapping

import httpx

from libs.money import Money
from services.payment_factory.domain.psp import (NormalizedEvent, PaymentStatus, ProviderError, ProviderPayment, ProviderRefund,
                                                 RefundExceedsCaptured, WebhookRejected)

SANDBOX = "https://api-m.sandbox.paypal.com"
LIVE = "https://api-m.paypal.com"
MAX_REQUEST_ID = 108  # PayPal-Request-Id length limit

_AUTHORIZATION = {"CREATED": PaymentStatus.AUTHORIZED, "PARTIALLY_CAPTURED": PaymentStatus.AUTHORIZED, "PENDING": PaymentStatus.PROCESSING,
                  "CAPTURED": PaymentStatus.SUCCEEDED, "VOIDED": PaymentStatus.CANCELED, "EXPIRED": PaymentStatus.CANCELED,
                  "DENIED": PaymentStatus.FAILED}
_CAPTURE = {"COMPLETED": PaymentStatus.SUCCEEDED, "PARTIALLY_REFUNDED": PaymentStatus.SUCCEEDED, "REFUNDED": PaymentStatus.SUCCEEDED,
            "PENDING": PaymentStatus.PROCESSING, "DECLINED": PaymentStatus.FAILED, "FAILED": PaymentStatus.FAILED}


def to_paypal(amount_minor: int, currency: str) -> str:
    """Minor units as PayPal's decimal string: 1999 EUR -> '19.99', 1999 JPY -> '1999'."""
    money = Money(amount_minor, currency)
    return f"{money.amount:f}"


def from_paypal(amount: Mapping[str, Any], currency_key: str = "currency_code") -> Money:
    """PayPal's {value, currency_code} as exact minor units; a value finer than the currency allows is refused."""
    try:
        return Money.parse(str(amount["value"]), str(amount[currency_key]))
    except (KeyError, ValueError) as exc:
        raise ProviderError("paypal", f"unreadable amount {dict(amount)!r}: {exc}", "unreadable_amount") from None


def request_id(key: str) -> str:
    return key if len(key) <= MAX_REQUEST_ID else "sha256-" + hashlib.sha256(key.encode()).hexdigest()


class PayPalProvider:
    name = "paypal"

    def __init__(self, client_id: str, client_secret: str, api_base: str = SANDBOX, webhooks=None, payout_receiver: str | None = None,
                 timeout: float = 20.0, clock: Callable[[], float] = time.monotonic, transport: httpx.BaseTransport | None = None):
        self._basic = "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self.http = httpx.Client(base_url=api_base.rstrip("/"), timeout=timeout, transport=transport)
        self.webhooks, self.payout_receiver, self.clock = webhooks, payout_receiver, clock
        self._token: str | None = None
        self._token_until = 0.0

    def close(self) -> None:
        self.http.close()

    # access token

    def _access_token(self, renew: bool = False) -> str:
        if renew or self._token is None or self.clock() >= self._token_until:
            try:
                r = self.http.post("/v1/oauth2/token", data={"grant_type": "client_credentials"},
                                   headers={"Authorization": self._basic, "Accept": "application/json"})
            except httpx.TransportError as exc:
                raise ProviderError(self.name, f"token endpoint unreachable: {exc}", "unreachable") from None
            if r.status_code != 200:
                raise self._error(r)
            body = r.json()
            ttl = float(body.get("expires_in", 0))
            self._token = body["access_token"]
            self._token_until = self.clock() + ttl - min(60.0, ttl / 10)  # renewed a little before PayPal lets it lapse
        return self._token

    # HTTP

    def _call(self, method: str, path: str, key: str | None = None, body: dict | None = None) -> dict:
        """One API call: bearer token (renewed once on 401), PayPal-Request-Id on writes, one retry on 5xx or a lost connection."""
        headers = {"Content-Type": "application/json", "Prefer": "return=representation"}
        if key is not None:
            headers["PayPal-Request-Id"] = request_id(key)
        renewed = False
        for attempt in range(2):
            headers["Authorization"] = f"Bearer {self._access_token()}"
            try:
                r = self.http.request(method, path, json=body, headers=headers)
            except httpx.TransportError as exc:
                if attempt == 0:
                    continue  # the same PayPal-Request-Id: a repeat has no second effect
                raise ProviderError(self.name, f"{method} {path}: {exc}", "unreachable") from None
            if r.status_code == 401 and not renewed:
                renewed = True
                headers["Authorization"] = f"Bearer {self._access_token(renew=True)}"
                try:
                    r = self.http.request(method, path, json=body, headers=headers)
                except httpx.TransportError as exc:
                    raise ProviderError(self.name, f"{method} {path}: {exc}", "unreachable") from None
            if r.status_code >= 500 and attempt == 0:
                continue
            if r.status_code >= 400:
                raise self._error(r)
            return r.json() if r.content else {}
        raise AssertionError("unreachable")  # pragma: no cover

    def _error(self, r: httpx.Response) -> ProviderError:
        try:
            body = r.json()
        except ValueError:
            body = {}
        details = body.get("details") or [{}]
        code = details[0].get("issue") or body.get("name") or body.get("error") or f"http_{r.status_code}"
        message = details[0].get("description") or body.get("message") or body.get("error_description") or r.reason_phrase
        kind = RefundExceedsCaptured if code == "REFUND_AMOUNT_EXCEEDED" else ProviderError
        return kind(self.name, f"{message} ({code})", code, r.status_code)

    # values

    def _authorization_payment(self, auth: dict) -> ProviderPayment:
        money = from_paypal(auth["amount"])
        status = _AUTHORIZATION.get(auth.get("status", ""), PaymentStatus.FAILED)
        captured = money.minor if status is PaymentStatus.SUCCEEDED else 0
        return ProviderPayment(self.name, auth["id"], status, money.minor, money.currency, captured_minor=captured)

    def _capture_payment(self, capture: dict) -> ProviderPayment:
        money = from_paypal(capture["amount"])
        status = _CAPTURE.get(capture.get("status", ""), PaymentStatus.FAILED)
        captured = money.minor if status is PaymentStatus.SUCCEEDED else 0
        # PayPal's capture shows whether it was refunded, not how much; the amount is known only when all of it was
        refunded = money.minor if capture.get("status") == "REFUNDED" else 0
        return ProviderPayment(self.name, capture["id"], status, money.minor, money.currency, captured_minor=captured,
                               refunded_minor=refunded)

    # the port

    def authorize(self, key: str, amount_minor: int, currency: str, customer_ref: str, method_ref: str,
                  metadata: Mapping[str, str]) -> ProviderPayment:
        amount = {"currency_code": currency, "value": to_paypal(amount_minor, currency)}
        unit: dict[str, Any] = {"reference_id": "default", "amount": amount}
        if customer_ref:
            unit["custom_id"] = customer_ref[:127]
        if metadata.get("invoice_id"):
            unit["invoice_id"] = str(metadata["invoice_id"])[:127]
        body: dict[str, Any] = {"intent": "AUTHORIZE", "purchase_units": [unit]}
        if method_ref:
            body["payment_source"] = {"paypal": {"vault_id": method_ref}}
        order = self._call("POST", "/v2/checkout/orders", key, body)
        if order.get("status") == "APPROVED":
            order = self._call("POST", f"/v2/checkout/orders/{order['id']}/authorize", f"{key}:authorize", {})
        auths = [a for u in order.get("purchase_units", []) for a in (u.get("payments") or {}).get("authorizations", [])]
        if order.get("status") == "COMPLETED" and auths:
            return self._authorization_payment(auths[0])
        return ProviderPayment(self.name, order["id"], PaymentStatus.REQUIRES_ACTION, amount_minor, currency)

    def capture(self, key: str, reference: str, amount_minor: int | None = None) -> ProviderPayment:
        body: dict[str, Any] = {"final_capture": True}
        if amount_minor is not None:
            auth = self._call("GET", f"/v2/payments/authorizations/{reference}")
            currency = auth["amount"]["currency_code"]
            body = {"amount": {"currency_code": currency, "value": to_paypal(amount_minor, currency)}, "final_capture": False}
        return self._capture_payment(self._call("POST", f"/v2/payments/authorizations/{reference}/capture", key, body))

    def void(self, key: str, reference: str) -> ProviderPayment:
        auth = self._call("POST", f"/v2/payments/authorizations/{reference}/void", key, None)
        if not auth:  # 204 No Content
            auth = self._call("GET", f"/v2/payments/authorizations/{reference}")
        return self._authorization_payment(auth)

    def refund(self, key: str, reference: str, amount_minor: int | None = None) -> ProviderRefund:
        body: dict[str, Any] = {}
        if amount_minor is not None:
            capture = self._call("GET", f"/v2/payments/captures/{reference}")
            currency = capture["amount"]["currency_code"]
            body = {"amount": {"currency_code": currency, "value": to_paypal(amount_minor, currency)}}
        r = self._call("POST", f"/v2/payments/captures/{reference}/refund", key, body)
        money = from_paypal(r["amount"])
        return ProviderRefund(self.name, r["id"], reference, money.minor, money.currency, str(r.get("status", "")).lower())

    def _payout(self, key: str, amount_minor: int, currency: str, receiver: str, note: str) -> str:
        rid = request_id(key)
        item = {"recipient_type": "EMAIL" if "@" in receiver else "PAYPAL_ID", "receiver": receiver, "note": note, "sender_item_id": rid,
                "amount": {"currency": currency, "value": to_paypal(amount_minor, currency)}}
        r = self._call("POST", "/v1/payments/payouts", key, {"sender_batch_header": {"sender_batch_id": rid, "email_subject": note},
                                                              "items": [item]})
        return r["batch_header"]["payout_batch_id"]

    def transfer(self, key: str, amount_minor: int, currency: str, destination: str) -> str:
        """Pay a partner's share to the partner's PayPal account (email or PayPal payer id) as a one-item payout."""
        return self._payout(key, amount_minor, currency, destination, "Your share")

    def payout(self, key: str, amount_minor: int, currency: str) -> str:
        """Move money to our own PayPal account `payout_receiver`; PayPal has no API to withdraw to a bank account."""
        if not self.payout_receiver:
            raise ProviderError(self.name, "no payout receiver configured (CLOUDBILL_PAYMENT_PAYPAL_PAYOUT_RECEIVER)", "no_payout_receiver")
        return self._payout(key, amount_minor, currency, self.payout_receiver, "Payout")

    def status(self, reference: str) -> ProviderPayment:
        try:
            return self._capture_payment(self._call("GET", f"/v2/payments/captures/{reference}"))
        except ProviderError as exc:
            if exc.status != 404:
                raise
        return self._authorization_payment(self._call("GET", f"/v2/payments/authorizations/{reference}"))

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> NormalizedEvent:
        if self.webhooks is None:
            raise WebhookRejected(self.name, "no PayPal webhook id configured")
        return self.webhooks.verify_webhook(body, headers)
