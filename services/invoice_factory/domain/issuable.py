"""Can this draft be issued? Every defect, named by field, before an invoice number is consumed.

Numbers are gap-free, so an invoice that a receiver or the tax office would
reject must be refused while it is still a draft. The checks cover § 14
Abs. 4 UStG, the EN 16931 rules a document built from this draft could
otherwise break, and for XRechnung the German CIUS (BR-DE-*). They run on a
draft without a number; the number is never checked here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from services.invoice_factory.domain.document import DocumentType, Invoice
from services.invoice_factory.domain.iban import is_valid_iban
from services.invoice_factory.domain.lines import TaxCategory
from services.invoice_factory.domain.parties import Party
from services.invoice_factory.domain.payment import PaymentMeansCode


class Profile(StrEnum):
    """The e-invoice the draft must become: Factur-X/ZUGFeRD EN 16931, or XRechnung 3.0 in CII or UBL."""

    CII_EN16931 = "cii-en16931"
    XRECHNUNG_CII = "xrechnung-cii"
    XRECHNUNG_UBL = "xrechnung-ubl"

    @property
    def is_xrechnung(self) -> bool:
        return self is not Profile.CII_EN16931


@dataclass(frozen=True)
class IssueError:
    field: str
    reason: str


class MissingField(IssueError):
    """A value the law or the format requires is absent."""


class InvalidField(IssueError):
    """A value is present but not allowed."""


class NotIssuable(Exception):
    """Raised by use cases that refuse a draft; carries every error at once."""

    def __init__(self, errors: list[IssueError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))
        self.errors = errors


_ADDRESS = ("name", "street", "postcode", "city", "country")
_VAT_ID_NEEDED = {TaxCategory.REVERSE_CHARGE: "reverse charge needs the buyer's VAT id (§ 14a UStG, BR-AE-02)",
                  TaxCategory.INTRA_COMMUNITY: "an intra-community supply needs the buyer's VAT id (BR-IC-02)"}


def _party_errors(role: str, party: Party) -> list[IssueError]:
    errors: list[IssueError] = [MissingField(f"{role}.{name}", f"the {role}'s {name} is required (§ 14 Abs. 4 Nr. 1 UStG)")
                                for name in _ADDRESS if not getattr(party, name)]
    if party.country and (len(party.country) != 2 or not party.country.isupper()):
        errors.append(InvalidField(f"{role}.country", "use an ISO 3166-1 alpha-2 code such as DE"))
    return errors


def _line_errors(invoice: Invoice) -> list[IssueError]:
    errors: list[IssueError] = []
    if not invoice.lines:
        errors.append(MissingField("lines", "an invoice needs at least one line (§ 14 Abs. 4 Nr. 5 UStG)"))
    positions = [line.position for line in invoice.lines]
    if len(set(positions)) != len(positions):
        errors.append(InvalidField("lines", "line positions must be unique (BR-21)"))
    for line in invoice.lines:
        where = f"lines[{line.position}]"
        if not line.description:
            errors.append(MissingField(f"{where}.description", "every line needs a description (BR-25)"))
        if line.unit_price < 0:
            errors.append(InvalidField(f"{where}.unit_price", "prices must not be negative (BR-27); make the net negative"))
        if line.net.currency != invoice.currency:
            errors.append(InvalidField(f"{where}.net", f"one invoice has one currency, {invoice.currency}"))
        if line.tax_category is TaxCategory.STANDARD and line.tax_rate <= 0:
            errors.append(InvalidField(f"{where}.tax_rate", "standard rated lines need a rate above zero (BR-S-05)"))
        if line.tax_category is not TaxCategory.STANDARD and line.tax_rate != 0:
            errors.append(InvalidField(f"{where}.tax_rate", f"category {line.tax_category} has rate 0"))
    return errors


def _tax_errors(invoice: Invoice) -> list[IssueError]:
    errors: list[IssueError] = []
    categories = {TaxCategory(line.tax_category) for line in invoice.lines}
    for category, reason in _VAT_ID_NEEDED.items():
        if category in categories and not invoice.buyer.vat_id:
            errors.append(MissingField("buyer.vat_id", reason))
    if categories & {TaxCategory.REVERSE_CHARGE, TaxCategory.INTRA_COMMUNITY, TaxCategory.EXPORT} and not invoice.seller.vat_id:
        errors.append(MissingField("seller.vat_id", "reverse charge, intra-community and export invoices need the seller's VAT id"))
    if not (invoice.seller.vat_id or invoice.seller.tax_number):
        errors.append(MissingField("seller.vat_id", "the seller's VAT id or tax number is required (§ 14 Abs. 4 Nr. 2 UStG)"))
    vat_id_shown = invoice.seller.vat_id and TaxCategory.NOT_SUBJECT not in categories  # BR-O-02 hides it
    if not vat_id_shown and not invoice.seller.register:
        errors.append(MissingField("seller.register", "without a VAT id on the document the seller needs a legal "
                                                      "registration id, e.g. the commercial register (BR-CO-26)"))
    if TaxCategory.NOT_SUBJECT in categories and len(categories) > 1:
        errors.append(InvalidField("lines", "'not subject to VAT' (O) cannot be mixed with other categories (BR-O-11)"))
    return errors


def _document_errors(invoice: Invoice) -> list[IssueError]:
    errors: list[IssueError] = []
    if invoice.type_code in (DocumentType.CREDIT_NOTE, DocumentType.CORRECTED) and not invoice.preceding:
        errors.append(MissingField("preceding", "a credit note or correction must reference the invoice it corrects (BG-3)"))
    if invoice.due_date < invoice.issue_date:
        errors.append(InvalidField("due_date", "the due date is before the issue date"))
    if invoice.language not in ("de", "en"):
        errors.append(InvalidField("language", "invoices are rendered in de or en"))
    if invoice.prepaid is not None and invoice.prepaid.currency != invoice.currency:
        errors.append(InvalidField("prepaid", f"one invoice has one currency, {invoice.currency}"))
    return errors


def _payment_errors(invoice: Invoice) -> list[IssueError]:
    payment, errors = invoice.payment, []
    if payment.code is PaymentMeansCode.SEPA_CREDIT_TRANSFER:
        if payment.seller_account is None:
            errors.append(MissingField("payment.seller_account", "a credit transfer needs the seller's account (BG-17)"))
        elif not is_valid_iban(payment.seller_account.iban):
            errors.append(InvalidField("payment.seller_account.iban", "not a valid IBAN"))
    if payment.code is PaymentMeansCode.SEPA_DIRECT_DEBIT:
        for name, reason in (("mandate_reference", "BT-89"), ("creditor_id", "BT-90"), ("debtor_iban", "BT-91")):
            if not getattr(payment, name):
                errors.append(MissingField(f"payment.{name}", f"a SEPA direct debit needs {reason}"))
        if payment.debtor_iban and not is_valid_iban(payment.debtor_iban):
            errors.append(InvalidField("payment.debtor_iban", "not a valid IBAN"))
    return errors


def _xrechnung_errors(invoice: Invoice) -> list[IssueError]:
    errors: list[IssueError] = []
    if not invoice.buyer.buyer_reference:
        errors.append(MissingField("buyer.buyer_reference", "XRechnung needs BT-10 (Leitweg-ID), BR-DE-15"))
    for role, party in (("seller", invoice.seller), ("buyer", invoice.buyer)):
        if not party.email:
            errors.append(MissingField(f"{role}.email", f"XRechnung needs the {role}'s electronic address (BT-{34 if role == 'seller' else 49})"))
    contact = invoice.seller.contact
    for name, rule in (("name", "BR-DE-5"), ("phone", "BR-DE-6"), ("email", "BR-DE-7")):
        if contact is None or not getattr(contact, name):
            errors.append(MissingField(f"seller.contact.{name}", f"XRechnung needs the seller contact's {name} ({rule})"))
    return errors


def check_issuable(invoice: Invoice, profile: Profile | str = Profile.CII_EN16931) -> list[IssueError]:
    """Every reason the draft cannot be issued as `profile`; empty when it can. Pure and cheap."""
    profile = Profile(profile)
    errors = _party_errors("seller", invoice.seller) + _party_errors("buyer", invoice.buyer)
    errors += _line_errors(invoice) + _tax_errors(invoice) + _document_errors(invoice) + _payment_errors(invoice)
    if profile.is_xrechnung:
        errors += _xrechnung_errors(invoice)
    return errors
