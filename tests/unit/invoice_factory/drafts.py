"""A small valid draft and a line builder for the domain's table tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from libs.money import Money
from services.invoice_factory.domain import (
    BankAccount, Contact, DocumentType, Invoice, InvoiceLine, Party, PaymentMeans, Period, TaxCategory,
)

PERIOD = Period(date(2026, 11, 1), date(2026, 11, 30))
SELLER = Party("Cycle Cloud GmbH", "Hauptstraße 1", "10115", "Berlin", "DE", vat_id="DE123456789",
               email="billing@cycle.example", contact=Contact("Erika Musterfrau", "+49 30 1234567", "erika@cycle.example"))
BUYER = Party("Muster GmbH", "Musterstraße 42", "12345", "Musterstadt", "DE", vat_id="DE987654321",
              email="ap@muster.example", buyer_reference="04011000-12345-34")


def line(net_minor: int, rate: str = "19", category: str = "S", position: int = 1, price: str | None = None,
         quantity: str = "1", currency: str = "EUR") -> InvoiceLine:
    unit_price = Decimal(price) if price is not None else abs(Money(net_minor, currency).amount)
    return InvoiceLine(position, f"Line {position}", Decimal(quantity), "C62", unit_price, Money(net_minor, currency),
                       TaxCategory(category), Decimal(rate))


def draft(*lines: InvoiceLine, type_code: DocumentType = DocumentType.INVOICE, **changes) -> Invoice:
    numbered = tuple(replace(item, position=i) for i, item in enumerate(lines, 1))
    fields = dict(tenant_id="t", number=None, type_code=type_code, issue_date=date(2026, 12, 1), due_date=date(2026, 12, 15),
                  period=PERIOD, currency="EUR", seller=SELLER, buyer=BUYER, lines=numbered or (line(1000),),
                  payment=PaymentMeans.credit_transfer(BankAccount("DE89370400440532013000", "Cycle Cloud GmbH")))
    fields.update(changes)
    return Invoice(**fields)
