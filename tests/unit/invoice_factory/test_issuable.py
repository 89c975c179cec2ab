"""A draft is refused with every defect named by field, before it gets a number."""

from dataclasses import replace
from decimal import Decimal

import pytest

from libs.money import Money
from services.invoice_factory.domain import (
    BankAccount, Contact, DocumentType, InvalidField, IssueError, MissingField, PaymentMeans, PrecedingInvoice, Profile,
    check_issuable,
)
from tests.unit.invoice_factory.drafts import BUYER, SELLER, draft, line

REVERSE_CHARGE = draft(line(10000, "0", "AE"))


def fields(errors):
    return {e.field for e in errors}


@pytest.mark.parametrize("profile", list(Profile))
def test_a_complete_draft_without_number_is_issuable(profile):
    assert draft().number is None
    assert check_issuable(draft(), profile) == []


CASES = [
    ("reverse charge without buyer VAT id", replace(REVERSE_CHARGE, buyer=replace(BUYER, vat_id=None)), Profile.CII_EN16931,
     MissingField("buyer.vat_id", "reverse charge needs the buyer's VAT id (§ 14a UStG, BR-AE-02)")),
    ("intra-community without buyer VAT id", draft(line(1000, "0", "K"), buyer=replace(BUYER, vat_id=None)),
     Profile.CII_EN16931, MissingField("buyer.vat_id", "an intra-community supply needs the buyer's VAT id (BR-IC-02)")),
    ("XRechnung without Leitweg-ID", draft(buyer=replace(BUYER, buyer_reference=None)), Profile.XRECHNUNG_UBL,
     MissingField("buyer.buyer_reference", "XRechnung needs BT-10 (Leitweg-ID), BR-DE-15")),
    ("XRechnung without seller contact phone", draft(seller=replace(SELLER, contact=Contact("Erika", None, "e@x.example"))),
     Profile.XRECHNUNG_CII, MissingField("seller.contact.phone", "XRechnung needs the seller contact's phone (BR-DE-6)")),
    ("XRechnung without buyer electronic address", draft(buyer=replace(BUYER, email=None)), Profile.XRECHNUNG_CII,
     MissingField("buyer.email", "XRechnung needs the buyer's electronic address (BT-49)")),
    ("credit note without the invoice it corrects", draft(type_code=DocumentType.CREDIT_NOTE), Profile.CII_EN16931,
     MissingField("preceding", "a credit note or correction must reference the invoice it corrects (BG-3)")),
    ("seller without VAT id or tax number", draft(seller=replace(SELLER, vat_id=None, tax_number=None)), Profile.CII_EN16931,
     MissingField("seller.vat_id", "the seller's VAT id or tax number is required (§ 14 Abs. 4 Nr. 2 UStG)")),
    ("buyer without city", draft(buyer=replace(BUYER, city="")), Profile.CII_EN16931,
     MissingField("buyer.city", "the buyer's city is required (§ 14 Abs. 4 Nr. 1 UStG)")),
    ("negative price", draft(line(-500, price="-5.00")), Profile.CII_EN16931,
     InvalidField("lines[1].unit_price", "prices must not be negative (BR-27); make the net negative")),
    ("standard rate of zero", draft(line(1000, "0", "S")), Profile.CII_EN16931,
     InvalidField("lines[1].tax_rate", "standard rated lines need a rate above zero (BR-S-05)")),
    ("direct debit without mandate", draft(payment=PaymentMeans.direct_debit("", "DE98ZZZ09999999999", "DE02500105170137075030")),
     Profile.CII_EN16931, MissingField("payment.mandate_reference", "a SEPA direct debit needs BT-89")),
    ("IBAN with a wrong check digit", draft(payment=PaymentMeans.credit_transfer(BankAccount("DE88370400440532013000", "X"))),
     Profile.CII_EN16931, InvalidField("payment.seller_account.iban", "not a valid IBAN")),
    ("line in another currency", draft(line(1000, currency="USD")), Profile.CII_EN16931,
     InvalidField("lines[1].net", "one invoice has one currency, EUR")),
]


@pytest.mark.parametrize("invoice,profile,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_defects_are_named(invoice, profile, expected):
    errors = check_issuable(invoice, profile)
    assert expected in errors, errors


def test_all_defects_are_reported_at_once():
    broken = draft(line(1000, "0", "AE"), buyer=replace(BUYER, vat_id=None, buyer_reference=None, email=None),
                   type_code=DocumentType.CORRECTED)
    assert {"buyer.vat_id", "buyer.buyer_reference", "buyer.email", "preceding"} <= fields(check_issuable(broken, "xrechnung-cii"))


def test_factur_x_does_not_need_xrechnung_fields():
    relaxed = draft(buyer=replace(BUYER, buyer_reference=None, email=None), seller=replace(SELLER, contact=None))
    assert check_issuable(relaxed, Profile.CII_EN16931) == []
    assert {"buyer.buyer_reference", "buyer.email", "seller.contact.name"} <= fields(check_issuable(relaxed, Profile.XRECHNUNG_UBL))


def test_errors_are_typed_and_compare_by_kind():
    assert MissingField("a", "b") != InvalidField("a", "b")
    assert isinstance(MissingField("a", "b"), IssueError) and isinstance(InvalidField("a", "b"), IssueError)


def test_not_subject_to_vat_cannot_be_mixed():
    assert "lines" in fields(check_issuable(draft(line(1000), line(500, "0", "O"))))


def test_credit_note_with_reference_is_issuable():
    credit = draft(type_code=DocumentType.CREDIT_NOTE, preceding=PrecedingInvoice("RE-2026-000042"))
    assert check_issuable(credit) == []


def test_prepaid_in_another_currency_is_refused():
    assert "prepaid" in fields(check_issuable(draft(prepaid=Money(100, "USD"))))


def test_quantities_stay_decimal():
    assert isinstance(draft(line(1000, quantity="0.5", price="20.00")).lines[0].quantity, Decimal)


def test_without_a_vat_id_on_the_document_the_seller_needs_a_register_entry():
    small_business = draft(seller=replace(SELLER, vat_id=None, tax_number="30/123/45678"))
    assert "seller.register" in fields(check_issuable(small_business))
    assert check_issuable(replace(small_business, seller=replace(small_business.seller, register="HRB 1"))) == []
