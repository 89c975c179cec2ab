"""The invoice as a legal document (§14 UStG, EN 16931): parties, lines, totals, and what makes it issuable.

VAT is computed per (category, rate) on the sum of that group's line nets,
rounded half up (BR-CO-17), never per line; the invoice total is the sum of
the lines plus that VAT. `issuable_problems` runs on a draft without a
number, so an incomplete invoice is refused before a number is consumed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from libs.money import Money, Rounding, money_sum

EXEMPTION_TEXT = {
    "AE": ("VATEX-EU-AE", "Steuerschuldnerschaft des Leistungsempfängers / Reverse charge"),
    "K": ("VATEX-EU-IC", "Steuerfreie innergemeinschaftliche Lieferung / Intra-community supply"),
    "G": ("VATEX-EU-G", "Steuerfreie Ausfuhr / Export outside the EU"),
    "E": ("VATEX-EU-132", "Steuerbefreit nach § 4 UStG / Exempt"),
    "O": ("VATEX-EU-O", "Nicht im Inland steuerbar / Not subject to VAT"),
}


@dataclass(frozen=True)
class Party:
    name: str
    street: str
    postcode: str
    city: str
    country: str
    vat_id: str | None = None
    tax_number: str | None = None
    email: str | None = None
    buyer_reference: str | None = None
    contact_name: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class BankAccount:
    iban: str
    account_holder: str
    bic: str | None = None
    bank_name: str | None = None


@dataclass(frozen=True)
class Line:
    position: int
    description: str
    quantity: Decimal
    unit_code: str
    unit_price: Decimal
    net: Money
    tax_category: str
    tax_rate: Decimal
    detail: str | None = None
    kind: str = "usage"
    period_start: date | None = None
    period_end: date | None = None


@dataclass(frozen=True)
class Invoice:
    tenant_id: str
    number: str | None
    type_code: str  # 380 invoice, 381 credit note, 384 corrective, 389 self-billed
    issue_date: date
    due_date: date
    period_start: date
    period_end: date
    currency: str
    seller: Party
    buyer: Party
    bank: BankAccount
    lines: tuple[Line, ...]
    customer_number: str = ""
    language: str = "de"
    payment_terms: str = ""
    preceding_number: str | None = None
    notes: tuple[str, ...] = ()
    footer: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TaxSubtotal:
    category: str
    rate: Decimal
    net: Money
    tax: Money
    exemption_code: str | None
    exemption_reason: str | None


@dataclass(frozen=True)
class Totals:
    net: Money
    tax: Money
    gross: Money
    subtotals: tuple[TaxSubtotal, ...]


def compute_totals(invoice: Invoice, rounding: Rounding = Rounding.HALF_UP) -> Totals:
    groups: dict[tuple[str, Decimal], list[Money]] = {}
    for line in invoice.lines:
        rate = line.tax_rate if line.tax_category in ("S",) else Decimal(0)
        groups.setdefault((line.tax_category, rate), []).append(line.net)
    subtotals = []
    for (category, rate), nets in sorted(groups.items()):
        net = money_sum(nets, invoice.currency)
        tax = net.multiply(rate / 100, rounding)
        code, reason = EXEMPTION_TEXT.get(category, (None, None))
        subtotals.append(TaxSubtotal(category, rate, net, tax, code, reason))
    net = money_sum((s.net for s in subtotals), invoice.currency)
    tax = money_sum((s.tax for s in subtotals), invoice.currency)
    return Totals(net, tax, net + tax, tuple(subtotals))


@dataclass(frozen=True)
class Problem:
    field: str
    message: str


def issuable_problems(invoice: Invoice, flavour: str) -> list[Problem]:
    """What §14 UStG and EN 16931 (and XRechnung for its flavours) need that this draft lacks."""
    problems = []
    for role, party in (("seller", invoice.seller), ("buyer", invoice.buyer)):
        for name in ("name", "street", "postcode", "city", "country"):
            if not getattr(party, name):
                problems.append(Problem(f"{role}.{name}", f"the {role}'s {name} is required on an invoice"))
    if not (invoice.seller.vat_id or invoice.seller.tax_number):
        problems.append(Problem("seller.vat_id", "the seller's VAT id or tax number is required (§14 Abs. 4 Nr. 2 UStG)"))
    if not invoice.lines:
        problems.append(Problem("lines", "an invoice needs at least one line"))
    categories = {l.tax_category for l in invoice.lines}
    if categories & {"AE", "K"} and not invoice.buyer.vat_id:
        problems.append(Problem("buyer.vat_id", "reverse charge and intra-community supplies need the buyer's VAT id"))
    if categories & {"AE", "K"} and not invoice.seller.vat_id:
        problems.append(Problem("seller.vat_id", "reverse charge and intra-community supplies need the seller's VAT id"))
    if flavour.startswith("xrechnung"):
        if not invoice.buyer.buyer_reference:
            problems.append(Problem("buyer.buyer_reference", "XRechnung needs the buyer reference (Leitweg-ID, BT-10)"))
        if not invoice.seller.email:
            problems.append(Problem("seller.email", "XRechnung needs the seller's electronic address (BT-34)"))
        if not invoice.buyer.email:
            problems.append(Problem("buyer.email", "XRechnung needs the buyer's electronic address (BT-49)"))
        if not (invoice.seller.contact_name and invoice.seller.phone):
            problems.append(Problem("seller.contact_name", "XRechnung needs a seller contact with name and phone (BG-6)"))
    if invoice.type_code == "381" and not invoice.preceding_number:
        problems.append(Problem("preceding_number", "a credit note must reference the invoice it corrects"))
    for line in invoice.lines:
        if line.unit_price < 0:
            problems.append(Problem(f"lines[{line.position}].unit_price", "prices must not be negative (BR-27); negate the quantity"))
    return problems
