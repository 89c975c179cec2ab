"""Properties of the totals for any lines: the BR-CO sums hold exactly and VAT is within half a cent per rate."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from services.invoice_factory.domain import compute_totals
from tests.unit.invoice_factory.drafts import draft, line

lines = st.lists(st.tuples(st.integers(-100_000, 10_000_000), st.sampled_from(["19", "7", "0"])), min_size=1, max_size=25)


@given(lines)
def test_document_sums_hold_exactly(items):
    invoice = draft(*(line(net, rate, "S" if rate != "0" else "Z") for net, rate in items))
    totals = compute_totals(invoice)
    assert totals.net.minor == sum(net for net, _ in items)  # BR-CO-10
    assert totals.tax.minor == sum(group.tax.minor for group in totals.breakdown)  # BR-CO-14
    assert totals.gross == totals.net + totals.tax == totals.due  # BR-CO-15, BR-CO-16
    for group in totals.breakdown:  # BR-CO-17: rounded once per rate, so never more than half a cent off
        exact = Decimal(group.basis.minor) * group.rate / 100
        assert abs(group.tax.minor - exact) <= Decimal("0.5")
