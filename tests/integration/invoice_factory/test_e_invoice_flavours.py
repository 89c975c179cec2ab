"""Every e-invoice flavour and document type passes the XSD, the CEN EN 16931 rules and (for XRechnung) the
KoSIT rules; a deliberately broken document fails with the rule that names its defect."""

from dataclasses import replace

import pytest
from lxml import etree

from services.invoice_factory.adapters.rendering import render_xml
from services.invoice_factory.adapters.validation import errors, validate
from services.invoice_factory.domain import Profile, check_issuable
from tests.integration.invoice_factory import samples

pytestmark = pytest.mark.usefixtures("rules_available")

DOCUMENTS = {
    "invoice-380-mixed-rates-tiers-cap": samples.GERMAN,
    "credit-note-381": samples.CREDIT_NOTE,
    "self-billing-389": samples.SELF_BILLED,
    "reverse-charge": samples.REVERSE_CHARGE,
    "sepa-direct-debit": samples.DIRECT_DEBIT,
    "english": samples.ENGLISH,
    "intra-community-K": samples.INTRA_COMMUNITY,
    "exempt-E-and-zero-Z": samples.EXEMPT_AND_ZERO,
    "not-subject-O": samples.NOT_SUBJECT,
    "prepaid": samples.PREPAID,
}


def rules(findings) -> set[str]:
    return {finding.rule for finding in findings}


@pytest.mark.parametrize("flavour", list(Profile), ids=[p.value for p in Profile])
@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_every_flavour_passes_xsd_and_schematrons(name, flavour):
    invoice = DOCUMENTS[name]
    assert check_issuable(invoice, flavour) == []
    assert errors(validate(render_xml(invoice, flavour), flavour)) == []


@pytest.mark.parametrize("flavour", list(Profile), ids=[p.value for p in Profile])
def test_type_codes_and_guidelines(flavour):
    root = etree.fromstring(render_xml(samples.CREDIT_NOTE, flavour))
    text = etree.tostring(root).decode()
    assert "381" in text and "RE-2026-000042" in text  # BT-3 and BG-3
    expected = "urn:cen.eu:en16931:2017" if flavour is Profile.CII_EN16931 else \
        "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
    assert f">{expected}<" in text
    assert etree.QName(root).localname == ("CreditNote" if flavour is Profile.XRECHNUNG_UBL else "CrossIndustryInvoice")


def test_tax_total_off_by_one_cent_fails_br_co_14_and_15():
    xml = render_xml(samples.GERMAN, "cii-en16931")
    broken = xml.replace(b'<ram:TaxTotalAmount currencyID="EUR">166.13<', b'<ram:TaxTotalAmount currencyID="EUR">166.14<')
    assert broken != xml
    assert {"BR-CO-14", "BR-CO-15"} <= rules(errors(validate(broken, "cii-en16931")))


def test_ubl_tax_total_off_by_one_cent_fails_br_co_14():
    xml = render_xml(samples.GERMAN, "xrechnung-ubl")
    broken = xml.replace(b'<cbc:TaxAmount currencyID="EUR">166.13<', b'<cbc:TaxAmount currencyID="EUR">166.14<')
    assert broken != xml
    assert "BR-CO-14" in rules(errors(validate(broken, "xrechnung-ubl")))


@pytest.mark.parametrize("flavour", [Profile.XRECHNUNG_CII, Profile.XRECHNUNG_UBL], ids=["cii", "ubl"])
def test_missing_buyer_reference_fails_br_de_15_and_is_refused_as_a_draft(flavour):
    invoice = replace(samples.GERMAN, buyer=replace(samples.BUYER, buyer_reference=None))
    assert "BR-DE-15" in rules(errors(validate(render_xml(invoice, flavour), flavour)))
    assert "buyer.buyer_reference" in {e.field for e in check_issuable(invoice, flavour)}


def test_reverse_charge_without_buyer_vat_id_fails_br_ae():
    invoice = replace(samples.REVERSE_CHARGE, buyer=replace(samples.REVERSE_CHARGE.buyer, vat_id=None))
    assert "BR-AE-02" in rules(errors(validate(render_xml(invoice, "cii-en16931"), "cii-en16931")))


def test_a_schema_violation_is_an_xsd_finding():
    xml = render_xml(samples.GERMAN, "xrechnung-ubl").replace(b"<cbc:IssueDate>", b"<cbc:Bogus>x</cbc:Bogus><cbc:IssueDate>", 1)
    findings = errors(validate(xml, "xrechnung-ubl"))
    assert any(f.rule == "XSD" and "Bogus" in f.text for f in findings)


def test_not_xml_is_one_finding_not_an_exception():
    assert rules(validate(b"<unclosed", "cii-en16931")) == {"XML"}


def test_without_the_rules_validation_says_where_to_get_them(monkeypatch):
    monkeypatch.delenv("CLOUDBILL_RULES_DIR")
    with pytest.raises(FileNotFoundError, match="rules.sh"):
        validate(render_xml(samples.GERMAN, "cii-en16931"), "xrechnung-ubl")


def test_a_draft_has_a_placeholder_id_and_still_renders():
    draft = replace(samples.GERMAN, number=None)
    assert b">DRAFT<" in render_xml(draft, "cii-en16931")


def test_not_subject_to_vat_names_no_vat_ids():
    for flavour in Profile:
        xml = render_xml(samples.NOT_SUBJECT, flavour)
        assert b"DE123456789" not in xml and b"DE987654321" not in xml  # BR-O-02
