"""How numbers, dates and identifiers are written in CII and UBL: plain decimals, no exponent, no float.

Shared by both syntaxes so the same invoice reads the same in each, and
holds the one decision both must make alike: which VAT ids to show (none on
an invoice "not subject to VAT", BR-O-02).
"""

from __future__ import annotations

from decimal import Decimal

from libs.money import Money
from services.invoice_factory.domain import Invoice, Party, TaxCategory


def amount_text(money: Money) -> str:
    """An amount in major units with exactly the currency's decimals, at least two (EN 16931 amounts)."""
    amount = money.amount
    return f"{amount:.{max(2, -amount.as_tuple().exponent)}f}"


def decimal_text(value: Decimal | int) -> str:
    """A quantity, price or rate without exponent or trailing zeros: 19, 0.002, 1500."""
    value = Decimal(value)
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def shows_vat_ids(invoice: Invoice) -> bool:
    """An invoice not subject to VAT must not name VAT ids (BR-O-02); every other one does where known."""
    return not any(line.tax_category is TaxCategory.NOT_SUBJECT for line in invoice.lines)


def vat_id(invoice: Invoice, party: Party) -> str | None:
    return party.vat_id if shows_vat_ids(invoice) else None


def needs_ship_to(invoice: Invoice) -> bool:
    """Intra-community supplies must name the deliver-to country (BR-IC-12); we deliver to the buyer."""
    return any(line.tax_category is TaxCategory.INTRA_COMMUNITY for line in invoice.lines)
