"""Revenue-sharing settlement rules: exact splits of what was settled, deltas, partner VAT, statement lines, payout amounts."""

from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from libs.money import Money
from services.payment_factory.domain.settlement import (InvoiceParts, PartnerTaxUnknown, SettlementBasis, SettlementError, deltas,
                                                        partner_targets, partner_tax, payout_amount, settled_amount,
                                                        settlement_targets, statement_lines)


def test_a_fully_paid_invoice_gives_every_part_exactly_its_amount():
    parts = InvoiceParts(10000, 1900, (("p1", 2000), ("p2", 333)))
    assert settlement_targets(11900, parts.weights()) == [1900, 7667, 2000, 333]
    assert partner_targets(parts, 11900) == {"p1": 2000, "p2": 333}


def test_a_partial_payment_splits_by_largest_remainder():
    parts = InvoiceParts(10000, 1900, (("p1", 2000),))
    # 5950 of 11900 is exactly a half
    assert settlement_targets(5950, parts.weights()) == [950, 4000, 1000]
    # 1 cent goes to the largest remainder: the platform part (8000/11900)
    assert settlement_targets(1, parts.weights()) == [0, 1, 0]
    assert sum(settlement_targets(101, parts.weights())) == 101


def test_nothing_settled_on_an_empty_invoice_and_negative_parts_refused():
    assert settlement_targets(0, [0, 0, 0]) == [0, 0, 0]
    with pytest.raises(SettlementError):
        settlement_targets(10, [0, 0])
    with pytest.raises(SettlementError):
        settlement_targets(10, [19, 100, -20])


def test_a_credit_note_reduces_the_parts_it_takes_back():
    parts = InvoiceParts(10000, 1900, (("p1", 2000), ("p2", 1000)))
    left = parts.less(5000, 950, {"p1": 1000})
    assert left == InvoiceParts(5000, 950, (("p1", 1000), ("p2", 1000)))
    assert left.gross_minor == 5950 and left.platform_minor == 3000


def test_settled_amount_by_basis():
    assert settled_amount(SettlementBasis.CASH, 500, 11900) == 500
    assert settled_amount(SettlementBasis.CASH, 20000, 11900) == 11900  # a credit note left less than was paid
    assert settled_amount(SettlementBasis.CASH, -5, 11900) == 0
    assert settled_amount(SettlementBasis.ACCRUAL, 0, 11900) == 11900


def test_deltas_post_only_the_difference():
    assert deltas({"p1": 1000, "p2": 500}, {"p1": 400, "p2": 500, "p3": 7}) == {"p1": 600, "p3": -7}
    assert deltas({"p1": 0}, {}) == {}


def test_partner_tax_standard_reverse_charge_or_refused():
    assert partner_tax("DE", "DE123456789", None).category == "S"
    assert partner_tax("DE", None, "12/345/67890").rate == Decimal("19")
    assert partner_tax("AT", "ATU12345678", None).category == "AE"
    with pytest.raises(PartnerTaxUnknown) as no_ids:
        partner_tax("DE", None, None)
    assert no_ids.value.field == "partner.vat_id"
    with pytest.raises(PartnerTaxUnknown):
        partner_tax("FR", None, "123")
    assert partner_tax("DE", "DE1", None).tax_on(Money(1005, "EUR")) == Money(191, "EUR")  # 190.95 rounds half up


def test_statement_lines_group_per_invoice_and_kind():
    entries = [("payment", "RE-1", 500), ("payment", "RE-1", 500), ("refund", "RE-1", -200), ("accrual", "RE-2", 300),
               ("chargeback", "RE-3", 0), ("payment", "RE-4", 100), ("refund", "RE-4", -100)]
    assert statement_lines(entries) == [("Anteil Umsatz RE-1", 1000), ("Korrektur Anteil RE-1", -200), ("Anteil Umsatz RE-2", 300),
                                        ("Anteil Umsatz RE-4", 100), ("Korrektur Anteil RE-4", -100)]


def test_payout_is_what_is_due_at_most_the_payable_and_nothing_when_negative():
    assert payout_amount(5000, 1190) == 1190
    assert payout_amount(800, 1190) == 800
    assert payout_amount(-300, 1190) == 0
    assert payout_amount(5000, -10) == 0


invoices = st.integers(min_value=0, max_value=10**7).flatmap(lambda net: st.tuples(
    st.just(net), st.integers(min_value=0, max_value=net // 4 + 1),
    st.lists(st.integers(min_value=0, max_value=max(net // 3, 0)), min_size=1, max_size=4).filter(lambda s: sum(s) <= net)))


@settings(max_examples=300, deadline=None)
@given(invoices, st.lists(st.tuples(st.booleans(), st.integers(min_value=1, max_value=10**7)), max_size=12))
def test_any_sequence_of_payments_and_refunds_settles_to_the_cent(invoice, steps):
    net, tax, shares = invoice
    parts = InvoiceParts(net, tax, tuple((f"p{i}", s) for i, s in enumerate(shares)))
    gross = parts.gross_minor
    cash, posted = 0, {}
    for is_refund, amount in steps:
        cash = max(cash - amount, 0) if is_refund else min(cash + amount, gross)
        settled = settled_amount(SettlementBasis.CASH, cash, gross)
        split = settlement_targets(settled, parts.weights())
        assert sum(split) == settled  # tax part + platform part + partner shares == settled, exactly
        assert all(abs(part * gross - settled * w) < gross for part, w in zip(split, parts.weights())) if gross else True
        for partner, delta in deltas(partner_targets(parts, settled), posted).items():
            posted[partner] = posted.get(partner, 0) + delta
        assert {p: posted.get(p, 0) for p, _ in parts.shares} == partner_targets(parts, settled)
    full = settlement_targets(gross, parts.weights())
    assert full == parts.weights()  # fully paid: every partner got exactly its share
    assert partner_targets(parts, gross) == dict(parts.shares)
