"""Matching money received to open items: referenced invoices first, then oldest due first.

What is left after every open item is paid stays on the account as credit
(an over-payment), to be used by the next invoice or refunded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class OpenItem:
    invoice_id: str
    number: str
    due_date: date
    outstanding_minor: int


@dataclass(frozen=True)
class Allocation:
    invoice_id: str
    amount_minor: int


def allocate_payment(amount_minor: int, items: list[OpenItem], referenced: set[str]) -> tuple[list[Allocation], int]:
    """Returns the allocations and the unallocated rest (credit)."""
    if amount_minor <= 0:
        raise ValueError("a payment must be positive")
    ordered = sorted(items, key=lambda i: (i.invoice_id not in referenced and i.number not in referenced, i.due_date, i.number))
    rest = amount_minor
    out = []
    for item in ordered:
        if rest == 0:
            break
        take = min(rest, item.outstanding_minor)
        if take > 0:
            out.append(Allocation(item.invoice_id, take))
            rest -= take
    return out, rest


def reopen_for_refund(allocations: list[Allocation], unallocated_minor: int, refunded_before: int, amount_minor: int) -> list[Allocation]:
    """What a refund takes back from invoices the payment settled.

    A refund first pays back the payment's unallocated rest (the over-payment);
    only the part beyond it reopens invoices, the last settled first, so a
    series of partial refunds reopens exactly what one refund of the sum would.
    """
    if amount_minor <= 0 or refunded_before < 0:
        raise ValueError("a refund is positive")
    total = unallocated_minor + sum(a.amount_minor for a in allocations)
    if refunded_before + amount_minor > total:
        raise ValueError("a refund may not exceed what was received")
    start = max(refunded_before - unallocated_minor, 0)  # already taken back from invoices
    stop = max(refunded_before + amount_minor - unallocated_minor, 0)
    out, position = [], 0
    for a in reversed(allocations):
        lo, hi = position, position + a.amount_minor
        take = max(0, min(hi, stop) - max(lo, start))
        if take:
            out.append(Allocation(a.invoice_id, take))
        position = hi
    return out
