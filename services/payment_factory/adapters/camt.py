"""Bank statements (camt.053 end of day, camt.054 notifications) read into plain entries.

Both share the entry layout (Ntry with its transaction details), so one
reader serves both; elements are found by local name so camt.053.001.02 to
.08 all read the same. A returned direct debit shows as a debit entry (or a
reversal, RvslInd) carrying the original end-to-end id and an ISO reason code.
Amounts become integer minor units via Money, never floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from lxml import etree

from libs.money import Money
from services.payment_factory.domain.sepa import SepaError


@dataclass(frozen=True)
class BankEntry:
    reference: str  # the bank's own reference for the entry (AcctSvcrRef), else a position
    credit: bool  # money in
    reversal: bool
    amount_minor: int
    currency: str
    booking_date: date | None
    end_to_end_id: str | None
    remittance: str
    counterparty: str
    counterparty_iban: str | None
    return_code: str | None

    @property
    def is_return(self) -> bool:
        return self.return_code is not None or (self.reversal and self.credit is False)


def _first(node, path: str) -> str | None:
    found = node.xpath(path)
    if not found:
        return None
    value = found[0] if isinstance(found[0], str) else found[0].text
    return value.strip() if value else None


def _l(*names: str) -> str:
    return "/".join(f"*[local-name()='{n}']" for n in names)


def read_statement(xml: bytes) -> list[BankEntry]:
    """Every entry of a camt.053 or camt.054 document; refused with a SepaError if it is neither."""
    try:
        doc = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise SepaError("file", f"not XML: {exc}") from None
    ns = doc.nsmap.get(None, "")
    if "camt.053" not in ns and "camt.054" not in ns:
        raise SepaError("file", f"expected a camt.053 or camt.054 document, got namespace {ns!r}")
    entries = []
    for position, ntry in enumerate(doc.xpath("//*[local-name()='Ntry']")):
        amount_node = ntry.xpath(_l("Amt"))
        if not amount_node:
            raise SepaError("Ntry.Amt", f"entry {position} has no amount")
        currency = amount_node[0].get("Ccy") or ""
        try:
            money = Money.parse(amount_node[0].text.strip(), currency)
        except ValueError as exc:
            raise SepaError("Ntry.Amt", f"entry {position}: {exc}") from None
        credit = _first(ntry, _l("CdtDbtInd")) == "CRDT"
        tx = ntry.xpath(_l("NtryDtls", "TxDtls"))
        detail = tx[0] if tx else ntry
        party = "Dbtr" if credit else "Cdtr"
        booked = _first(ntry, _l("BookgDt", "Dt"))
        entries.append(BankEntry(
            reference=_first(ntry, _l("AcctSvcrRef")) or _first(detail, _l("Refs", "AcctSvcrRef")) or f"entry-{position}",
            credit=credit, reversal=(_first(ntry, _l("RvslInd")) or "").lower() == "true",
            amount_minor=money.minor, currency=money.currency, booking_date=date.fromisoformat(booked[:10]) if booked else None,
            end_to_end_id=_nonempty(_first(detail, _l("Refs", "EndToEndId"))),
            remittance=" ".join(t.strip() for t in detail.xpath(_l("RmtInf", "Ustrd") + "/text()")),
            counterparty=_first(detail, _l("RltdPties", party, "Nm")) or _first(detail, _l("RltdPties", party, "Pty", "Nm")) or "",
            counterparty_iban=_first(detail, _l("RltdPties", party + "Acct", "Id", "IBAN")),
            return_code=_first(detail, _l("RtrInf", "Rsn", "Cd"))))
    return entries


def _nonempty(value: str | None) -> str | None:
    return None if value in (None, "", "NOTPROVIDED") else value
