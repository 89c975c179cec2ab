"""The printed words of an invoice in German and English, and the unit names behind UN/ECE rec 20 codes.

Titles follow German usage: "Gutschrift" is reserved for self-billing
(§ 14 Abs. 2 Satz 5 UStG, type 389), so a commercial credit note (381) is
titled "Rechnungskorrektur" to avoid being read as one.
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "380": "Rechnung", "381": "Rechnungskorrektur", "384": "Korrigierte Rechnung", "389": "Gutschrift",
        "number": "Rechnungsnummer", "number_389": "Gutschriftsnummer", "date": "Datum", "customer_no": "Kundennummer",
        "period": "Leistungszeitraum", "due": "Fällig am", "buyer_vat": "Ihre USt-IdNr.", "reference": "Ihre Referenz",
        "preceding": "Bezug auf Rechnung", "of": "vom", "pos": "Pos.", "item": "Komponente / Ereignis", "qty": "Anzahl",
        "unit_price": "Einzelpreis", "vat": "USt", "total": "Gesamt", "net_total": "Nettobetrag",
        "net_at": "Netto {rate} %", "vat_at": "USt {rate} % auf {basis}", "gross": "Summe inkl. USt",
        "prepaid": "Bereits gezahlt", "due_amount": "Zahlbetrag", "transfer": "Bitte überweisen Sie den Zahlbetrag auf folgendes Konto:",
        "payout": "Wir überweisen den Betrag auf Ihr Konto:", "holder": "Kontoinhaber", "purpose": "Verwendungszweck",
        "debit": "Der Zahlbetrag wird per SEPA-Lastschrift von Ihrem Konto {iban} eingezogen.",
        "mandate": "Mandatsreferenz", "creditor_id": "Gläubiger-ID", "vat_id": "USt-IdNr.", "tax_number": "Steuernummer",
        "directors": "Geschäftsführung", "contact": "Ansprechpartner", "page": "Seite", "page_of": "von",
        "self_billed": "Gutschrift im Sinne des § 14 Abs. 2 Satz 5 UStG: die Abrechnung erfolgt durch den Leistungsempfänger.",
        "reverse_charge": "Steuerschuldnerschaft des Leistungsempfängers (§ 13b UStG). USt-IdNr. des Leistungsempfängers: {vat_id}",
        "correction": "Diese Rechnungskorrektur bezieht sich auf Rechnung {number}{date}.",
        "parameter": "Parameter",
    },
    "en": {
        "380": "Invoice", "381": "Credit note", "384": "Corrected invoice", "389": "Self-billed invoice (Gutschrift)",
        "number": "Invoice number", "number_389": "Statement number", "date": "Date", "customer_no": "Customer number",
        "period": "Service period", "due": "Due date", "buyer_vat": "Your VAT ID", "reference": "Your reference",
        "preceding": "Refers to invoice", "of": "of", "pos": "Pos.", "item": "Component / event", "qty": "Quantity",
        "unit_price": "Unit price", "vat": "VAT", "total": "Total", "net_total": "Net amount",
        "net_at": "Net {rate} %", "vat_at": "VAT {rate} % on {basis}", "gross": "Total incl. VAT",
        "prepaid": "Already paid", "due_amount": "Amount due", "transfer": "Please transfer the amount due to:",
        "payout": "We will transfer the amount to your account:", "holder": "Account holder", "purpose": "Reference",
        "debit": "The amount due will be collected by SEPA direct debit from your account {iban}.",
        "mandate": "Mandate reference", "creditor_id": "Creditor ID", "vat_id": "VAT ID", "tax_number": "Tax number",
        "directors": "Managing directors", "contact": "Contact", "page": "Page", "page_of": "of",
        "self_billed": "Self-billing (Gutschrift, § 14 (2) sentence 5 UStG): issued by the recipient of the supply.",
        "reverse_charge": "Reverse charge: VAT is payable by the recipient (Art. 196 Directive 2006/112/EC). Recipient's VAT ID: {vat_id}",
        "correction": "This credit note corrects invoice {number}{date}.",
        "parameter": "Parameter",
    },
}

UNITS: dict[str, dict[str, str]] = {
    "de": {"C62": "Stk.", "H87": "Stk.", "HUR": "Std.", "DAY": "Tage", "MON": "Monat", "ANN": "Jahr", "KWH": "kWh",
           "MIN": "Min.", "E34": "GB", "GB": "GB", "MTQ": "m³", "KGM": "kg", "LS": "pausch."},
    "en": {"C62": "pcs", "H87": "pcs", "HUR": "h", "DAY": "days", "MON": "month", "ANN": "year", "KWH": "kWh",
           "MIN": "min", "E34": "GB", "GB": "GB", "MTQ": "m³", "KGM": "kg", "LS": "lump sum"},
}
