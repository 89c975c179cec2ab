"""Stripe behind the payment-method port, through Stripe's own Python library.

Card payments are PaymentIntents with manual capture (authorize, then
capture all or part); refunds, Connect transfers and payouts map one to one.
Every write passes our idempotency key to Stripe, so a retried call never
charges twice. Webhooks are verified with Stripe's signature scheme
(HMAC-SHA256 over timestamp and raw body, constant-time compare, tolerance
window) before they are normalized. Tests run it against stripe-mock.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Mapping

import stripe

from services.payment_factory.domain.psp import (EventKind, NormalizedEvent, PaymentStatus, ProviderError, ProviderPayment, ProviderRefund,
                                                 WebhookRejected)

_STATUS = {"requires_payment_method": PaymentStatus.REQUIRES_ACTION, "requires_confirmation": PaymentStatus.REQUIRES_ACTION,
           "requires_action": PaymentStatus.REQUIRES_ACTION, "processing": PaymentStatus.PROCESSING,
           "requires_capture": PaymentStatus.AUTHORIZED, "succeeded": PaymentStatus.SUCCEEDED, "canceled": PaymentStatus.CANCELED}

_EVENTS = {"payment_intent.succeeded": EventKind.PAYMENT_SUCCEEDED, "payment_intent.payment_failed": EventKind.PAYMENT_FAILED,
           "charge.refunded": EventKind.REFUNDED, "charge.dispute.created": EventKind.CHARGEBACK_OPENED}


class StripeProvider:
    name = "stripe"

    def __init__(self, api_key: str, webhook_secret: str, api_base: str | None = None, tolerance_seconds: int = 300):
        self.client = stripe.StripeClient(api_key, base_addresses={"api": api_base} if api_base else {}, max_network_retries=2)
        self.webhook_secret, self.tolerance = webhook_secret, tolerance_seconds

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except stripe.StripeError as exc:
            raise ProviderError(self.name, exc.user_message or str(exc), exc.code, exc.http_status) from None

    def _payment(self, pi) -> ProviderPayment:
        return ProviderPayment(self.name, pi.id, _STATUS.get(pi.status, PaymentStatus.FAILED), int(pi.amount), pi.currency.upper(),
                               captured_minor=int(pi.amount_received or 0))

    def authorize(self, key: str, amount_minor: int, currency: str, customer_ref: str, method_ref: str,
                  metadata: Mapping[str, str]) -> ProviderPayment:
        params = {"amount": amount_minor, "currency": currency.lower(), "capture_method": "manual",
                  "metadata": {"customer_id": customer_ref, **metadata}}
        if method_ref:
            params.update(payment_method=method_ref, confirm=True)
        return self._payment(self._call(self.client.v1.payment_intents.create, params=params, options={"idempotency_key": key}))

    def capture(self, key: str, reference: str, amount_minor: int | None = None) -> ProviderPayment:
        params = {"amount_to_capture": amount_minor} if amount_minor is not None else {}
        return self._payment(self._call(self.client.v1.payment_intents.capture, reference, params=params, options={"idempotency_key": key}))

    def void(self, key: str, reference: str) -> ProviderPayment:
        return self._payment(self._call(self.client.v1.payment_intents.cancel, reference, options={"idempotency_key": key}))

    def refund(self, key: str, reference: str, amount_minor: int | None = None) -> ProviderRefund:
        params = {"payment_intent": reference, **({"amount": amount_minor} if amount_minor is not None else {})}
        r = self._call(self.client.v1.refunds.create, params=params, options={"idempotency_key": key})
        return ProviderRefund(self.name, r.id, reference, int(r.amount), r.currency.upper(), r.status)

    def transfer(self, key: str, amount_minor: int, currency: str, destination: str) -> str:
        return self._call(self.client.v1.transfers.create, params={"amount": amount_minor, "currency": currency.lower(),
                                                                  "destination": destination}, options={"idempotency_key": key}).id

    def payout(self, key: str, amount_minor: int, currency: str) -> str:
        return self._call(self.client.v1.payouts.create, params={"amount": amount_minor, "currency": currency.lower()},
                          options={"idempotency_key": key}).id

    def status(self, reference: str) -> ProviderPayment:
        return self._payment(self._call(self.client.v1.payment_intents.retrieve, reference))

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> NormalizedEvent:
        signature = {k.lower(): v for k, v in headers.items()}.get("stripe-signature")
        if not signature:
            raise WebhookRejected(self.name, "no Stripe-Signature header")
        try:
            stripe.WebhookSignature.verify_header(body.decode("utf-8"), signature, self.webhook_secret, self.tolerance)
            event = json.loads(body)
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise WebhookRejected(self.name, str(exc)) from None
        return normalize(event)


def normalize(event: dict) -> NormalizedEvent:
    obj = event.get("data", {}).get("object", {})
    kind = _EVENTS.get(event.get("type", ""), EventKind.OTHER)
    reference, amount = obj.get("id"), obj.get("amount")
    if kind is EventKind.PAYMENT_SUCCEEDED:
        amount = obj.get("amount_received", amount)
    elif kind is EventKind.REFUNDED:
        reference, amount = obj.get("payment_intent"), obj.get("amount_refunded")
    elif kind is EventKind.CHARGEBACK_OPENED:
        reference = obj.get("payment_intent")
    metadata = {str(k): str(v) for k, v in (obj.get("metadata") or {}).items()}
    return NormalizedEvent("stripe", str(event["id"]), kind, datetime.fromtimestamp(int(event.get("created", 0)), timezone.utc),
                           payment_reference=reference, amount_minor=int(amount) if amount is not None else None,
                           currency=str(obj["currency"]).upper() if obj.get("currency") else None,
                           customer_id=metadata.get("customer_id"), reason=obj.get("reason") or obj.get("failure_code"),
                           raw_type=str(event.get("type", "")), metadata=metadata)
