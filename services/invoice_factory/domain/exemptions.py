"""Why no (domestic) VAT is charged: the reason text and VATEX code each non-taxed category must carry.

EN 16931 requires a reason (BT-120 text and/or BT-121 code) for E, AE, K, G
and O (BR-E-10, BR-AE-10, BR-IC-10, BR-G-10, BR-O-10) and forbids one for S
and Z (BR-S-10, BR-Z-10), so a zero-rated line carries no reason even though
a brief might ask for one: the standard wins. The reverse-charge wording is
the one § 14a Abs. 5 UStG prescribes.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.invoice_factory.domain.lines import TaxCategory


@dataclass(frozen=True)
class Exemption:
    code: str  # CEF VATEX code list
    text: str


_REASONS: dict[TaxCategory, tuple[str, dict[str, str]]] = {
    TaxCategory.REVERSE_CHARGE: ("VATEX-EU-AE", {
        "de": "Steuerschuldnerschaft des Leistungsempfängers", "en": "Reverse charge"}),
    TaxCategory.INTRA_COMMUNITY: ("VATEX-EU-IC", {
        "de": "Steuerfreie innergemeinschaftliche Lieferung", "en": "Intra-Community supply"}),
    TaxCategory.EXPORT: ("VATEX-EU-G", {
        "de": "Steuerfreie Ausfuhrlieferung", "en": "Export outside the EU"}),
    TaxCategory.EXEMPT: ("VATEX-EU-132", {
        "de": "Steuerbefreit nach Art. 132 MwStSystRL (§ 4 UStG)",
        "en": "Exempt based on article 132 of Council Directive 2006/112/EC"}),
    TaxCategory.NOT_SUBJECT: ("VATEX-EU-O", {
        "de": "Nicht im Inland steuerbare Leistung", "en": "Not subject to VAT"}),
}


def exemption_for(category: TaxCategory, language: str = "de") -> Exemption | None:
    """The reason to print and to put in the XML, or None where the category must not carry one."""
    entry = _REASONS.get(category)
    if entry is None:
        return None
    code, texts = entry
    return Exemption(code, texts.get(language, texts["en"]))
