"""The payment-method port: what every way of collecting or paying out money offers, in our own terms.

Adapters (Stripe, PayPal, SEPA, bank transfer) translate to and from their
provider; the rest of the factory sees only these values. Every write takes
an idempotency key, amounts are integer minor units, and a provider's webhook
becomes a NormalizedEvent only after its signature was verified.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Mapping, Protocol


class PaymentStatus(str, Enum):
    REQUIRES_ACTION = "requires_action"
    AUTHORIZED = "authorized"  # funds reserved, not yet captured
    PROCESSING = "processing"  # e.g. a SEPA debit submitted, settles in days
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"
    FAILED = "failed"


class EventKind(str, Enum):
    PAYMENT_SUCCEEDED = "payment_succeeded"
    PAYMENT_FAILED = "payment_failed"
    REFUNDED = "refunded"
    CHARGEBACK_OPENED = "chargeback_opened"
    OTHER = "other"


@dataclass(frozen=True)
class ProviderPayment:
    provider: str
    reference: str  # the provider's id (PaymentIntent, PayPal capture, end-to-end id)
    status: PaymentStatus
    amount_minor: int
    currency: str
    captured_minor: int = 0
    refunded_minor: int = 0


@dataclass(frozen=True)
class ProviderRefund:
    provider: str
    reference: str
    payment_reference: str
    amount_minor: int
    currency: str
    status: str


@dataclass(frozen=True)
class NormalizedEvent:
    """A verified provider event in our terms; `event_id` is the provider's and keys the webhook inbox."""

    provider: str
    event_id: str
    kind: EventKind
    occurred_at: datetime
    payment_reference: str | None = None
    amount_minor: int | None = None
    currency: str | None = None
    customer_id: str | None = None
    reason: str | None = None
    raw_type: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)


class WebhookRejected(Exception):
    """A webhook whose signature is missing, forged or outside the time tolerance; nothing is recorded."""

    def __init__(self, provider: str, reason: str):
        super().__init__(f"{provider} webhook rejected: {reason}")
        self.provider, self.reason = provider, reason


class ProviderError(Exception):
    """The provider refused or failed a request; `code` is its own error code when it gave one."""

    def __init__(self, provider: str, message: str, code: str | None = None, status: int | None = None):
        super().__init__(f"{provider}: {message}")
        self.provider, self.message, self.code, self.status = provider, message, code, status


class RefundExceedsCaptured(ProviderError):
    """The provider refused a refund larger than what is left of the captured amount; nothing was refunded."""


class PaymentProvider(Protocol):
    name: str

    def authorize(self, key: str, amount_minor: int, currency: str, customer_ref: str, method_ref: str,
                  metadata: Mapping[str, str]) -> ProviderPayment: ...

    def capture(self, key: str, reference: str, amount_minor: int | None = None) -> ProviderPayment: ...

    def void(self, key: str, reference: str) -> ProviderPayment: ...

    def refund(self, key: str, reference: str, amount_minor: int | None = None) -> ProviderRefund: ...

    def transfer(self, key: str, amount_minor: int, currency: str, destination: str) -> str: ...

    def payout(self, key: str, amount_minor: int, currency: str) -> str: ...

    def status(self, reference: str) -> ProviderPayment: ...

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> NormalizedEvent: ...
