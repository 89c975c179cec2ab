"""The invoice document as issued: header, parties, lines, payment; one currency, immutable.

A draft has no number yet (`number=None`): checks run on the draft so an
invoice that could not be issued never consumes a number from the gap-free
range. Type codes are UNTDID 1001 as EN 16931 allows them (BT-3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from libs.money import Money
from services.invoice_factory.domain.lines import InvoiceLine, Period
from services.invoice_factory.domain.parties import Party
from services.invoice_factory.domain.payment import PaymentMeans


class DocumentType(StrEnum):
    INVOICE = "380"
    CREDIT_NOTE = "381"
    CORRECTED = "384"
    SELF_BILLED = "389"  # "Gutschrift" in the sense of § 14 Abs. 2 Satz 5 UStG


@dataclass(frozen=True)
class PrecedingInvoice:
    """BG-3: the invoice a credit note or correction refers to."""

    number: str
    issue_date: date | None = None


@dataclass(frozen=True)
class Invoice:
    tenant_id: str
    number: str | None
    type_code: DocumentType
    issue_date: date
    due_date: date
    period: Period
    currency: str
    seller: Party
    buyer: Party
    lines: tuple[InvoiceLine, ...]
    payment: PaymentMeans
    payment_terms: str = ""
    language: str = "de"
    preceding: PrecedingInvoice | None = None
    notes: tuple[str, ...] = ()
    prepaid: Money | None = None

    @property
    def is_self_billed(self) -> bool:
        return self.type_code is DocumentType.SELF_BILLED
