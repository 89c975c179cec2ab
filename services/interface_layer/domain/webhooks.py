"""Outgoing webhooks: what a tenant's endpoint receives, how it is signed, and when a failed delivery is retried.

Signatures follow the scheme payment providers use and receivers know:
`Cloudbill-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`,
checked with a constant-time compare and a tolerance window, so a
captured request cannot be replayed later. Event type names are derived
from the contract names (InvoiceIssued.v1 -> invoice.issued), so a new
public event needs no second name.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import timedelta

SIGNATURE_HEADER = "Cloudbill-Signature"
TOLERANCE_SECONDS = 300
MAX_ATTEMPTS = 12


def event_type(contract_type: str) -> str:
    """`InvoiceIssued.v1` -> `invoice.issued`."""
    name = contract_type.split(".", 1)[0]
    return ".".join(word.lower() for word in re.findall(r"[A-Z][a-z0-9]*", name))


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, now: int, tolerance: int = TOLERANCE_SECONDS) -> bool:
    """True only for a signature by `secret` over exactly `body`, made within `tolerance` seconds of `now`."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def retry_delay(attempts: int, base_seconds: float) -> timedelta:
    """Exponential backoff after the `attempts`-th failure: base, 2x, 4x ... capped at six hours."""
    return timedelta(seconds=min(base_seconds * 2 ** max(attempts - 1, 0), 6 * 3600))


def wants(subscribed: list[str], event: str) -> bool:
    return "*" in subscribed or event in subscribed
