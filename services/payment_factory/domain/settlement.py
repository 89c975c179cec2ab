"""Revenue-sharing settlement: how much of what an invoice has settled belongs to each partner, and what a partner is owed.

An invoice's effective amounts (after its credit notes) are split in a fixed
order: the tax, the platform's part of the net, then each partner's share.
Whatever has been settled on the invoice so far (cash basis: money allocated
to it; accrual basis: all of it) is split over those parts by largest
remainder, so the parts always add up to the settled amount exactly and a
fully settled invoice gives every partner exactly its share. Postings are
only ever the difference between the new targets and what was posted before.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Mapping, Sequence

from libs.money import Money, Rounding, allocate_minor


class SettlementBasis(str, Enum):
    CASH = "cash"  # partners earn their share as the customer pays
    ACCRUAL = "accrual"  # partners earn their share when the invoice is issued


class SettlementError(ValueError):
    """An invoice whose parts cannot be split (a negative part)."""


@dataclass(frozen=True)
class InvoiceParts:
    """An invoice's effective amounts: issued minus what credit notes took back."""

    net_minor: int
    tax_minor: int
    shares: tuple[tuple[str, int], ...]  # (partner_id, net share), in a stable order

    @property
    def gross_minor(self) -> int:
        return self.net_minor + self.tax_minor

    @property
    def platform_minor(self) -> int:
        return self.net_minor - sum(amount for _, amount in self.shares)

    def weights(self) -> list[int]:
        return [self.tax_minor, self.platform_minor, *(amount for _, amount in self.shares)]

    def less(self, net_minor: int, tax_minor: int, shares: Mapping[str, int]) -> InvoiceParts:
        """What is left after a credit note takes back `net_minor`, `tax_minor` and these partner shares."""
        own = dict(self.shares)
        return InvoiceParts(self.net_minor - net_minor, self.tax_minor - tax_minor,
                            tuple((p, own.get(p, 0) - shares.get(p, 0)) for p in sorted(own.keys() | shares.keys())))


def settlement_targets(settled_minor: int, weights: Sequence[int]) -> list[int]:
    """Split what was settled over the parts in proportion to their weights; the parts sum to `settled_minor` exactly."""
    if any(w < 0 for w in weights):
        raise SettlementError("an invoice part is negative")
    if sum(weights) == 0:
        if settled_minor:
            raise SettlementError("nothing to settle against")
        return [0] * len(weights)
    return allocate_minor(settled_minor, weights)


def settled_amount(basis: SettlementBasis, cash_minor: int, gross_minor: int) -> int:
    """What counts as settled: accrual settles the whole invoice, cash what was paid (never beyond the effective gross)."""
    if basis is SettlementBasis.ACCRUAL:
        return max(gross_minor, 0)
    return min(max(cash_minor, 0), max(gross_minor, 0))


def partner_targets(parts: InvoiceParts, settled_minor: int) -> dict[str, int]:
    split = settlement_targets(settled_minor, parts.weights())
    return {partner: amount for (partner, _), amount in zip(parts.shares, split[2:])}


def deltas(targets: Mapping[str, int], posted: Mapping[str, int]) -> dict[str, int]:
    """What to post per partner to move from what was posted to the targets (zeros left out)."""
    out = {p: targets.get(p, 0) - posted.get(p, 0) for p in sorted(targets.keys() | posted.keys())}
    return {p: d for p, d in out.items() if d}


# statements


class PartnerTaxUnknown(ValueError):
    def __init__(self, field: str, reason: str):
        super().__init__(reason)
        self.field, self.reason = field, reason


@dataclass(frozen=True)
class PartnerTax:
    category: str  # S standard rate, AE reverse charge
    rate: Decimal
    note: str = ""

    def tax_on(self, net: Money) -> Money:
        return net.multiply(self.rate / 100, Rounding.HALF_UP)


STANDARD = PartnerTax("S", Decimal("19"))
REVERSE_CHARGE = PartnerTax("AE", Decimal("0"), "Steuerschuldnerschaft des Leistungsempfängers")


def partner_tax(country: str, vat_id: str | None, tax_number: str | None) -> PartnerTax:
    """The VAT on a partner's self-billing statement: German partners charge 19 %, partners abroad reverse-charge."""
    if (country or "DE").upper() == "DE":
        if vat_id or tax_number:
            return STANDARD
        raise PartnerTaxUnknown("partner.vat_id", "a German partner needs a VAT id or a tax number on its statement")
    if vat_id:
        return REVERSE_CHARGE
    raise PartnerTaxUnknown("partner.vat_id", "a partner outside Germany needs a VAT id for reverse charge")


_CORRECTIONS = {"refund", "chargeback", "credit_note"}


def line_label(cause: str, number: str) -> str:
    return f"{'Korrektur Anteil' if cause in _CORRECTIONS else 'Anteil Umsatz'} {number}"


def statement_lines(entries: Sequence[tuple[str, str, int]]) -> list[tuple[str, int]]:
    """(cause, invoice number, amount) entries -> one line per label in first-seen order, zero lines left out."""
    lines: dict[str, int] = {}
    for cause, number, amount in entries:
        label = line_label(cause, number)
        lines[label] = lines.get(label, 0) + amount
    return [(label, amount) for label, amount in lines.items() if amount]


def payout_amount(payable_minor: int, due_minor: int) -> int:
    """What to pay: what the statements say is due, never more than the payable holds; nothing while it is negative."""
    return max(0, min(payable_minor, due_minor))
