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
