"""Invoice totals per EN 16931: the VAT breakdown and the document totals, from the line nets.

Lines are grouped by (category, rate) (BG-23); each group's VAT is its summed
net times the rate, rounded once (BR-CO-17), never line by line. Then
net = sum of lines (BR-CO-10), tax = sum of group VAT (BR-CO-14),
gross = net + tax (BR-CO-15), due = gross - prepaid (BR-CO-16).
Document-level allowances and charges are not modelled: rating puts
discounts on lines, so the tax basis equals the line total (BR-CO-13).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from libs.money import DEFAULT_ROUNDING, Money, Rounding, money_sum
from services.invoice_factory.domain.document import Invoice
from services.invoice_factory.domain.exemptions import Exemption, exemption_for
from services.invoice_factory.domain.lines import InvoiceLine, TaxCategory

_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class TaxBreakdown:
    category: TaxCategory
    rate: Decimal
    basis: Money
    tax: Money
    exemption: Exemption | None


@dataclass(frozen=True)
class Totals:
    net: Money
    tax: Money
    gross: Money
    prepaid: Money
    due: Money
    breakdown: tuple[TaxBreakdown, ...]


def _rate(line: InvoiceLine) -> Decimal:
    return line.tax_rate if line.tax_category is TaxCategory.STANDARD else Decimal(0)


def tax_breakdown(invoice: Invoice, rounding: Rounding = DEFAULT_ROUNDING) -> tuple[TaxBreakdown, ...]:
    groups: dict[tuple[TaxCategory, Decimal], list[Money]] = {}
    for line in invoice.lines:
        groups.setdefault((TaxCategory(line.tax_category), _rate(line).normalize()), []).append(line.net)
    ordered = sorted(groups.items(), key=lambda item: (-item[0][1], item[0][0].value))
    result = []
    for (category, rate), nets in ordered:
        basis = money_sum(nets, invoice.currency)
        tax = basis.multiply(rate / _HUNDRED, rounding)
        result.append(TaxBreakdown(category, rate, basis, tax, exemption_for(category, invoice.language)))
    return tuple(result)


def compute_totals(invoice: Invoice, rounding: Rounding = DEFAULT_ROUNDING) -> Totals:
    """The VAT breakdown (highest rate first) and the document totals, exact to the minor unit."""
    breakdown = tax_breakdown(invoice, rounding)
    net = money_sum((line.net for line in invoice.lines), invoice.currency)
    tax = money_sum((group.tax for group in breakdown), invoice.currency)
    gross = net + tax
    prepaid = invoice.prepaid or Money.zero(invoice.currency)
    return Totals(net, tax, gross, prepaid, gross - prepaid, breakdown)
