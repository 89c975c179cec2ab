"""Invoice totals per EN 16931: VAT per (category, rate) on the summed nets, rounded half up once per rate."""

from dataclasses import replace
from decimal import Decimal

import pytest

from libs.money import Money
from services.invoice_factory.domain import DocumentType, PrecedingInvoice, TaxCategory, compute_totals
from tests.unit.invoice_factory.drafts import draft, line

CASES = [
    # id, lines, expected (net, tax, gross) minor, expected breakdown [(category, rate, basis, tax)]
    ("single 19 %", [line(10000)], (10000, 1900, 11900), [("S", "19", 10000, 1900)]),
    ("mixed 19/7/0", [line(10000), line(5000, "7"), line(2000, "0", "Z")], (17000, 2250, 19250),
     [("S", "19", 10000, 1900), ("S", "7", 5000, 350), ("Z", "0", 2000, 0)]),
    # 3 x 0.13 at 19 %: per line 0.0247 -> 0.02, 0.06 in all; per rate 0.39 * 19 % = 0.0741 -> 0.07
    ("rounding per rate, not per line", [line(13), line(13), line(13)], (39, 7, 46), [("S", "19", 39, 7)]),
    ("half up at exactly half a cent", [line(50, "7")], (50, 4, 54), [("S", "7", 50, 4)]),
    ("half up on 0.5 of a cent upwards", [line(1250, "19")], (1250, 238, 1488), [("S", "19", 1250, 238)]),
    ("a cap line reduces the rate's basis", [line(10000), line(-2500)], (7500, 1425, 8925), [("S", "19", 7500, 1425)]),
    ("reverse charge has no VAT and a reason", [line(100000, "0", "AE")], (100000, 0, 100000), [("AE", "0", 100000, 0)]),
    ("exempt next to standard", [line(1000), line(500, "0", "E")], (1500, 190, 1690), [("S", "19", 1000, 190), ("E", "0", 500, 0)]),
    ("decimal rate", [line(10000, "5.5")], (10000, 550, 10550), [("S", "5.5", 10000, 550)]),
]


@pytest.mark.parametrize("lines,expected,breakdown", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_totals(lines, expected, breakdown):
    totals = compute_totals(draft(*lines))
    assert (totals.net.minor, totals.tax.minor, totals.gross.minor) == expected
    assert [(b.category.value, str(b.rate), b.basis.minor, b.tax.minor) for b in totals.breakdown] == \
        [(c, r, basis, tax) for c, r, basis, tax in breakdown]
    assert totals.due == totals.gross


def test_per_line_rounding_would_differ():
    """The case above is only meaningful if rounding each line first gives another result."""
    per_line = sum(Money(13, "EUR").multiply(Decimal("0.19")).minor for _ in range(3))
    assert per_line == 6 and compute_totals(draft(line(13), line(13), line(13))).tax.minor == 7


def test_exemption_reasons_are_named_for_non_taxed_categories_only():
    totals = compute_totals(draft(line(1000), line(1000, "0", "AE"), line(1000, "0", "Z"), line(1000, "0", "K")))
    reasons = {b.category: b.exemption for b in totals.breakdown}
    assert reasons[TaxCategory.STANDARD] is None and reasons[TaxCategory.ZERO] is None  # BR-S-10, BR-Z-10
    assert reasons[TaxCategory.REVERSE_CHARGE].code == "VATEX-EU-AE"
    assert reasons[TaxCategory.REVERSE_CHARGE].text == "Steuerschuldnerschaft des Leistungsempfängers"
    assert reasons[TaxCategory.INTRA_COMMUNITY].code == "VATEX-EU-IC"


def test_english_reverse_charge_reason():
    totals = compute_totals(draft(line(1000, "0", "AE"), language="en"))
    assert totals.breakdown[0].exemption.text == "Reverse charge"


def test_credit_note_totals_are_positive_amounts_of_the_credited_lines():
    credit = draft(line(4900), line(1998, "7"), type_code=DocumentType.CREDIT_NOTE, preceding=PrecedingInvoice("RE-1"))
    totals = compute_totals(credit)
    assert (totals.net.minor, totals.tax.minor, totals.gross.minor) == (6898, 931 + 140, 6898 + 1071)


def test_prepaid_reduces_the_amount_due_not_the_total():
    totals = compute_totals(draft(line(10000), prepaid=Money(5000, "EUR")))
    assert (totals.gross.minor, totals.prepaid.minor, totals.due.minor) == (11900, 5000, 6900)


def test_sum_of_group_bases_equals_line_total():
    invoice = draft(line(333), line(333, "7"), line(334), line(-1, "7"), line(99, "0", "E"))
    totals = compute_totals(invoice)
    assert sum(b.basis.minor for b in totals.breakdown) == totals.net.minor == 1098
    assert totals.tax.minor == sum(b.tax.minor for b in totals.breakdown)


def test_other_currency_keeps_its_minor_unit():
    invoice = replace(draft(line(1000, currency="JPY")), currency="JPY")
    assert compute_totals(invoice).tax == Money(190, "JPY")
