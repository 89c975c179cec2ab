"""Every e-invoice the platform emits passes the XSD, the CEN EN 16931 and the KoSIT XRechnung rules;
a broken one fails with the rule that names the defect."""

import os
from dataclasses import replace
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from libs.money import Money
from services.invoice_factory.adapters.cii_invoice import build_cii
from services.invoice_factory.adapters.ubl_invoice import build_ubl
from services.invoice_factory.adapters.validation import validate
from services.invoice_factory.domain.invoice_document import BankAccount, Invoice, Line, Party


@pytest.fixture(scope="module")
def rules_dir() -> Path:
    folder = os.environ.get("CLOUDBILL_RULES_DIR")
    if not folder:
        if os.environ.get("CLOUDBILL_REQUIRE_INFRA") == "1":
            pytest.fail("CLOUDBILL_RULES_DIR is required (deploy/local/rules.sh)")
        pytest.skip("CLOUDBILL_RULES_DIR not set: run deploy/local/rules.sh")
    return Path(folder)


SELLER = Party("Cycle Cloud GmbH", "Hauptstraße 1", "10115", "Berlin", "DE", vat_id="DE123456789", tax_number="30/123/45678",
               email="billing@cycle.example", contact_name="Erika Musterfrau", phone="+49 30 123")
BUYER = Party("Muster GmbH", "Musterstraße 42", "12345", "Musterstadt", "DE", vat_id="DE987654321", email="ap@muster.example",
              buyer_reference="04011000-12345-34")


def line(pos, desc, qty, price, net, cat="S", rate="19", kind="usage"):
    return Line(pos, desc, D(qty), "C62", D(price), Money(net, "EUR"), cat, D(rate), kind=kind,
                period_start=date(2026, 11, 1), period_end=date(2026, 11, 30))


BASE = Invoice(
    tenant_id="t", number="RE-000042", type_code="380", issue_date=date(2026, 12, 1), due_date=date(2026, 12, 15),
    period_start=date(2026, 11, 1), period_end=date(2026, 11, 30), currency="EUR", seller=SELLER, buyer=BUYER,
    bank=BankAccount("DE89370400440532013000", "Cycle Cloud GmbH", "COBADEFFXXX"),
    lines=(line(1, "Grundgebühr", "1", "49.00", 4900, kind="fee"),
           line(2, "API-Aufrufe Staffel 1–1000", "1000", "0.002", 200, kind="tier_step"),
           line(3, "API-Aufrufe Staffel ab 1001", "1500", "0.001", 150, kind="tier_step"),
           line(4, "API-Aufrufe – Begrenzung auf Maximalpreis", "1", "1.00", -100, kind="cap"),
           line(5, "E-Book", "2", "9.99", 1998, rate="7")),
    payment_terms="Zahlbar ohne Abzug bis zum 15.12.2026.",
)
REVERSE_CHARGE = replace(BASE, number="RE-000043", buyer=replace(BUYER, country="AT", vat_id="ATU12345678"),
                         lines=(line(1, "Cloud-Dienst", "1", "100.00", 10000, cat="AE", rate="0"),))
CREDIT_NOTE = replace(BASE, number="GS-000001", type_code="381", preceding_number="RE-000042",
                      lines=(line(1, "Gutschrift Grundgebühr", "1", "49.00", 4900, kind="fee"),))


@pytest.mark.parametrize("invoice", [BASE, REVERSE_CHARGE, CREDIT_NOTE], ids=["mixed-rates-tiers-cap", "reverse-charge", "credit-note"])
@pytest.mark.parametrize("flavour", ["zugferd", "xrechnung-cii", "xrechnung-ubl"])
def test_emitted_documents_pass_xsd_cen_and_kosit(rules_dir, invoice, flavour):
    xml = build_ubl(invoice) if flavour == "xrechnung-ubl" else build_cii(invoice, flavour)
    findings = [f for f in validate(xml, flavour, rules_dir) if f.flag != "warning"]
    assert findings == []


def test_a_wrong_tax_total_fails_the_cen_rules(rules_dir):
    xml = build_cii(BASE, "zugferd").replace(b"<ram:TaxTotalAmount currencyID=\"EUR\">", b"<ram:TaxTotalAmount currencyID=\"EUR\">1")
    rules = {f.rule for f in validate(xml, "zugferd", rules_dir)}
    assert rules & {"BR-CO-14", "BR-CO-15"}, rules


def test_xrechnung_without_buyer_reference_fails_kosit(rules_dir):
    no_reference = replace(BASE, buyer=replace(BUYER, buyer_reference=None))
    rules = {f.rule for f in validate(build_cii(no_reference, "xrechnung-cii"), "xrechnung-cii", rules_dir)}
    assert "BR-DE-15" in rules, rules
    ubl_rules = {f.rule for f in validate(build_ubl(no_reference), "xrechnung-ubl", rules_dir)}
    assert "BR-DE-15" in ubl_rules, ubl_rules
