"""Webhook signatures and retry schedule: a receiver can trust what verifies, and nothing else."""

import hashlib
import hmac
from datetime import timedelta

import pytest

from services.interface_layer.domain.webhooks import event_type, retry_delay, signature, verify, wants

SECRET, BODY, T = "whsec_test", b'{"id":"msg_1","type":"invoice.issued"}', 1_800_000_000


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signature(SECRET, T, BODY) == f"t={T},v1={expected}"


@pytest.mark.parametrize("header, body, now, ok", [
    (signature(SECRET, T, BODY), BODY, T + 10, True),
    (signature(SECRET, T, BODY), BODY + b" ", T + 10, False),            # body changed
    (signature("whsec_other", T, BODY), BODY, T + 10, False),           # forged with another secret
    (signature(SECRET, T, BODY), BODY, T + 301, False),                 # replayed after the tolerance window
    (signature(SECRET, T + 400, BODY), BODY, T, False),                 # from the future
    ("v1=deadbeef", BODY, T, False), ("", BODY, T, False), ("t=x,v1=00", BODY, T, False),
])
def test_verify(header, body, now, ok):
    assert verify(SECRET, header, body, now) is ok


def test_event_types_come_from_contract_names():
    assert event_type("InvoiceIssued.v1") == "invoice.issued"
    assert event_type("BillingRunCompleted.v1") == "billing.run.completed"
    assert wants(["*"], "invoice.paid") and wants(["invoice.paid"], "invoice.paid") and not wants(["invoice.paid"], "invoice.issued")


def test_retries_back_off_exponentially_and_are_capped():
    assert [retry_delay(n, 30) for n in (1, 2, 3)] == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]
    assert retry_delay(40, 30) == timedelta(hours=6)
