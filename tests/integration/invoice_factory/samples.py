"""Sample invoices for the rendering and e-invoice tests: one per flavour and document type."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from libs.money import Money
from services.invoice_factory.domain import (
    BankAccount, Contact, DocumentType, Invoice, InvoiceLine, LineKind, Party, PaymentMeans, Period,
    PrecedingInvoice, TaxCategory,
)

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))
SELLER = Party(
    "Cycle Cloud GmbH", "Hauptstraße 1", "10115", "Berlin", "DE", vat_id="DE123456789", tax_number="30/123/45678",
    email="billing@cycle.example", contact=Contact("Erika Musterfrau", "+49 30 1234567", "erika@cycle.example"),
    register="Amtsgericht Charlottenburg, HRB 123456 B", managing_directors=("Max Mustermann", "Erika Musterfrau"),
)
BUYER = Party(
    "Muster GmbH", "Musterstraße 42", "12345", "Musterstadt", "DE", vat_id="DE987654321", email="rechnung@muster.example",
    buyer_reference="04011000-12345-34", contact=Contact("Personalabteilung"), customer_number="K-10042",
)
ACCOUNT = BankAccount("DE89370400440532013000", "Cycle Cloud GmbH", "COBADEFFXXX", "Commerzbank")


def line(position: int, description: str, quantity: str, price: str, net_minor: int, kind: LineKind = LineKind.USAGE,
         category: TaxCategory = TaxCategory.STANDARD, rate: str = "19", unit: str = "C62", detail: str | None = None) -> InvoiceLine:
    return InvoiceLine(position, description, Decimal(quantity), unit, Decimal(price), Money(net_minor, "EUR"),
                       category, Decimal(rate if category is TaxCategory.STANDARD else "0"), NOVEMBER, detail, kind)


GERMAN = Invoice(
    tenant_id="tenant-1", number="RE-2026-000042", type_code=DocumentType.INVOICE, issue_date=date(2026, 12, 1),
    due_date=date(2026, 12, 15), period=NOVEMBER, currency="EUR", seller=SELLER, buyer=BUYER,
    lines=(
        line(1, "Grundgebühr Plattform Business", "1", "49.00", 4900, LineKind.FEE, unit="MON"),
        line(2, "API-Aufrufe Staffel 1 – 10.000", "10000", "0.002", 2000, LineKind.TIER_STEP),
        line(3, "API-Aufrufe Staffel 10.001 – 50.000", "25000", "0.0015", 3750, LineKind.TIER_STEP),
        line(4, "API-Aufrufe: Begrenzung auf Maximalpreis 50,00 €", "1", "7.50", -750, LineKind.CAP),
        line(5, "Speicher (GB-Stunden)", "1440", "0.0125", 1800, detail="Region eu-central-1: 1.200 GB-h; eu-west-1: 240 GB-h"),
        line(6, "Workshop Cloud Compliance", "6", "125.00", 75000, LineKind.ONE_TIME, unit="HUR"),
        line(7, "Fachbuch Cloud-Recht (E-Book)", "2", "9.99", 1998, rate="7"),
    ),
    payment=PaymentMeans.credit_transfer(ACCOUNT),
    payment_terms="Zahlbar ohne Abzug bis zum 15.12.2026.",
)
REVERSE_CHARGE = replace(
    GERMAN, number="RE-2026-000043",
    buyer=replace(BUYER, name="Muster Ges.m.b.H.", street="Ringstraße 1", postcode="1010", city="Wien", country="AT",
                  vat_id="ATU12345678"),
    lines=(line(1, "Cloud-Plattform Business", "1", "490.00", 49000, LineKind.FEE, TaxCategory.REVERSE_CHARGE),
           line(2, "API-Aufrufe", "120000", "0.001", 12000, category=TaxCategory.REVERSE_CHARGE)),
)
CREDIT_NOTE = replace(
    GERMAN, number="GS-2026-000007", type_code=DocumentType.CREDIT_NOTE,
    preceding=PrecedingInvoice("RE-2026-000042", date(2026, 12, 1)),
    lines=(line(1, "Gutschrift Grundgebühr Plattform Business", "1", "49.00", 4900, LineKind.CREDIT),),
    payment_terms="Der Betrag wird Ihrem Konto gutgeschrieben.",
)
SELF_BILLED = replace(
    GERMAN, number="GS-P-2026-000003", type_code=DocumentType.SELF_BILLED,
    seller=replace(BUYER, name="Partner Wartung GmbH", vat_id="DE111222333", tax_number="27/456/78901",
                   email="abrechnung@partner.example", contact=Contact("Paul Partner", "+49 40 555123", "paul@partner.example"),
                   register="Amtsgericht Hamburg, HRB 98765"),
    buyer=replace(SELLER, buyer_reference="CYCLE-PARTNER-7", customer_number=None),
    lines=(line(1, "Provision Wartungsverträge November", "1", "1250.00", 125000, LineKind.FEE),),
    payment=PaymentMeans.credit_transfer(BankAccount("DE02120300000000202051", "Partner Wartung GmbH")),
    payment_terms="Auszahlung per Überweisung innerhalb von 14 Tagen.",
)
DIRECT_DEBIT = replace(
    GERMAN, number="RE-2026-000044",
    payment=PaymentMeans.direct_debit("MNDT-2026-0042", "DE98ZZZ09999999999", "DE02500105170137075030", ACCOUNT),
    payment_terms="Der Betrag wird am 15.12.2026 per SEPA-Lastschrift eingezogen.",
)
ENGLISH = replace(GERMAN, number="INV-2026-000045", language="en", payment_terms="Payable without deduction by 15 Dec 2026.")
FRENCH_BUYER = replace(BUYER, name="Exemple SARL", street="1 rue de Rivoli", postcode="75001", city="Paris", country="FR",
                       vat_id="FR40303265045")
INTRA_COMMUNITY = replace(GERMAN, number="RE-2026-000046", buyer=FRENCH_BUYER, lines=(
    line(1, "Server-Hardware", "2", "1500.00", 300000, LineKind.ONE_TIME, TaxCategory.INTRA_COMMUNITY),))
EXEMPT_AND_ZERO = replace(GERMAN, number="RE-2026-000047", lines=(
    GERMAN.lines[0], line(2, "Schulung (steuerbefreit)", "1", "300.00", 30000, LineKind.ONE_TIME, TaxCategory.EXEMPT),
    line(3, "Fachzeitschrift", "1", "10.00", 1000, category=TaxCategory.ZERO)))
NOT_SUBJECT = replace(GERMAN, number="RE-2026-000048", lines=(
    line(1, "Durchlaufender Posten Gebühren", "1", "10.00", 1000, category=TaxCategory.NOT_SUBJECT),))
PREPAID = replace(GERMAN, number="RE-2026-000049", prepaid=Money(50000, "EUR"))
