"""PayPal webhooks: verified offline with PayPal's certificate scheme, then normalized.

PayPal signs "<transmission id>|<transmission time>|<webhook id>|<CRC32 of
the raw body>" with SHA256withRSA and sends the signature, the algorithm and
the URL of its signing certificate in headers. We accept only certificates
served over https from PayPal's own hosts, check the certificate is current,
verify the signature with `cryptography`, and refuse transmissions older
than the tolerance. Only verification and normalization are here; the PayPal
API calls (authorize, capture, refund, payout) are in paypal_provider.py,
which hands its webhooks to this class.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from datetime import datetime, timedelta, timezone
from typing import Callable, Mapping
from urllib.parse import urlparse

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from libs.money import Money
from services.payment_factory.domain.psp import EventKind, NormalizedEvent, WebhookRejected

CERT_HOSTS = ("api.paypal.com", "api.sandbox.paypal.com", "api-m.paypal.com", "api-m.sandbox.paypal.com")
_EVENTS = {"PAYMENT.CAPTURE.COMPLETED": EventKind.PAYMENT_SUCCEEDED, "PAYMENT.CAPTURE.DENIED": EventKind.PAYMENT_FAILED,
           "PAYMENT.CAPTURE.REFUNDED": EventKind.REFUNDED, "CUSTOMER.DISPUTE.CREATED": EventKind.CHARGEBACK_OPENED}


class PayPalWebhooks:
    name = "paypal"

    def __init__(self, webhook_id: str, fetch_cert: Callable[[str], bytes], tolerance: timedelta = timedelta(minutes=5),
                 now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.webhook_id, self.fetch_cert, self.tolerance, self.now = webhook_id, fetch_cert, tolerance, now

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> NormalizedEvent:
        h = {k.lower(): v for k, v in headers.items()}
        needed = ("paypal-transmission-id", "paypal-transmission-time", "paypal-transmission-sig", "paypal-cert-url", "paypal-auth-algo")
        missing = [n for n in needed if not h.get(n)]
        if missing:
            raise WebhookRejected(self.name, f"missing headers: {', '.join(missing)}")
        if h["paypal-auth-algo"] != "SHA256withRSA":
            raise WebhookRejected(self.name, f"unsupported algorithm {h['paypal-auth-algo']}")
        url = urlparse(h["paypal-cert-url"])
        if url.scheme != "https" or url.hostname not in CERT_HOSTS:
            raise WebhookRejected(self.name, "certificate URL is not one of PayPal's")
        try:
            sent = datetime.fromisoformat(h["paypal-transmission-time"].replace("Z", "+00:00"))
        except ValueError:
            raise WebhookRejected(self.name, "unreadable transmission time") from None
        if abs(self.now() - sent) > self.tolerance:
            raise WebhookRejected(self.name, "transmission time outside the tolerance window")
        cert = x509.load_pem_x509_certificate(self.fetch_cert(h["paypal-cert-url"]))
        if not cert.not_valid_before_utc <= self.now() <= cert.not_valid_after_utc:
            raise WebhookRejected(self.name, "signing certificate is not valid now")
        message = f"{h['paypal-transmission-id']}|{h['paypal-transmission-time']}|{self.webhook_id}|{zlib.crc32(body)}".encode()
        try:
            cert.public_key().verify(base64.b64decode(h["paypal-transmission-sig"], validate=True), message, padding.PKCS1v15(),
                                     hashes.SHA256())
            event = json.loads(body)
        except (InvalidSignature, binascii.Error, ValueError):
            raise WebhookRejected(self.name, "signature does not match") from None
        return normalize(event)


def normalize(event: dict) -> NormalizedEvent:
    resource = event.get("resource", {})
    kind = _EVENTS.get(event.get("event_type", ""), EventKind.OTHER)
    amount = resource.get("amount") or resource.get("dispute_amount") or {}
    minor = currency = None
    if amount.get("value") and amount.get("currency_code"):
        money = Money.parse(amount["value"], amount["currency_code"])
        minor, currency = money.minor, money.currency
    reference = resource.get("id")
    if kind is EventKind.REFUNDED:
        up = next((l["href"] for l in resource.get("links", []) if l.get("rel") == "up"), "")
        reference = up.rstrip("/").rsplit("/", 1)[-1] or reference
    elif kind is EventKind.CHARGEBACK_OPENED:
        txs = resource.get("disputed_transactions") or [{}]
        reference = txs[0].get("seller_transaction_id", reference)
    created = event.get("create_time")
    return NormalizedEvent("paypal", str(event["id"]), kind,
                           datetime.fromisoformat(created.replace("Z", "+00:00")) if created else datetime.now(timezone.utc),
                           payment_reference=reference, amount_minor=minor, currency=currency, customer_id=resource.get("custom_id"),
                           reason=resource.get("reason"), raw_type=str(event.get("event_type", "")))
