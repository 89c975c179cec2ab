"""The invoice PDF: HTML rendered by WeasyPrint as PDF/A-3b, with the CII e-invoice embedded (ZUGFeRD/Factur-X).

A plain PDF is not an e-invoice in Germany since 2025; the embedded CII XML
is the legally relevant part, the PDF its human-readable view. Both come
from the same Invoice, so they cannot disagree.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.invoice_factory.domain.invoice_document import Invoice, compute_totals

TEXTS = {
    "de": {"title": "Rechnung", "titles": {"380": "Rechnung", "381": "Stornorechnung / Gutschrift", "384": "Korrigierte Rechnung", "389": "Gutschrift"},
           "number": "Rechnungsnummer", "date": "Rechnungsdatum", "customer_no": "Kundennummer", "period": "Leistungszeitraum",
           "buyer_vat": "USt-IdNr. Kunde", "reference": "Ihre Referenz", "preceding": "Bezug auf Rechnung", "pos": "Pos.",
           "item": "Komponente / Ereignis", "qty": "Anzahl", "unit_price": "Einzelpreis", "vat": "USt", "total": "Gesamt",
           "net": "Summe netto", "on": "auf", "gross": "Rechnungsbetrag", "transfer_to": "Bitte überweisen Sie an",
           "purpose": "Verwendungszweck", "vat_id": "USt-IdNr.", "tax_number": "Steuernummer", "directors": "Geschäftsführung"},
    "en": {"title": "Invoice", "titles": {"380": "Invoice", "381": "Credit note", "384": "Corrected invoice", "389": "Self-billed invoice"},
           "number": "Invoice number", "date": "Invoice date", "customer_no": "Customer number", "period": "Service period",
           "buyer_vat": "Customer VAT ID", "reference": "Your reference", "preceding": "Refers to invoice", "pos": "Pos.",
           "item": "Component / event", "qty": "Quantity", "unit_price": "Unit price", "vat": "VAT", "total": "Total",
           "net": "Net total", "on": "on", "gross": "Amount due", "transfer_to": "Please transfer to",
           "purpose": "Reference", "vat_id": "VAT ID", "tax_number": "Tax number", "directors": "Managing directors"},
}


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"]))


def _num(value: Decimal, lang: str, places: int | None = None) -> str:
    text = f"{value:,.{places}f}" if places is not None else f"{value.normalize():,f}"
    return text.replace(",", "\u2009").replace(".", ",") if lang == "de" else text


def invoice_html(invoice: Invoice, branding: dict) -> str:
    lang = invoice.language if invoice.language in TEXTS else "de"
    m = lambda money: _num(money.amount, lang, 2) + (" €" if money.currency == "EUR" else f" {money.currency}")  # noqa: E731
    return _env().get_template("invoice.html").render(
        inv=invoice, totals=compute_totals(invoice), t=TEXTS[lang], lang=lang, footer=invoice.footer,
        branding={"primary_color": "#1f4e79", "logo_data_uri": None, "footer_text": None, **(branding or {})},
        iban=" ".join(invoice.bank.iban[i:i + 4] for i in range(0, len(invoice.bank.iban), 4)),
        d=lambda day: day.strftime("%d.%m.%Y") if lang == "de" else day.isoformat(), m=m,
        q=lambda d: _num(d.quantize(Decimal("0.0001")).normalize(), lang),
        p=lambda d: _num(d, lang, max(2, -d.normalize().as_tuple().exponent)),
    )


def render_pdf(invoice: Invoice, branding: dict, cii_xml: bytes) -> bytes:
    """PDF/A-3b with the CII XML attached as factur-x.xml (EN 16931 profile)."""
    from facturx import generate_from_binary
    from weasyprint import HTML

    pdf = HTML(string=invoice_html(invoice, branding)).write_pdf(pdf_variant="pdf/a-3b", uncompressed_pdf=False)
    return generate_from_binary(pdf, cii_xml, flavor="factur-x", level="en16931", check_xsd=True,
                                pdf_metadata={"author": invoice.seller.name, "keywords": "Factur-X, ZUGFeRD, invoice",
                                              "title": f"{invoice.seller.name}: {TEXTS[invoice.language if invoice.language in TEXTS else 'de']['title']} {invoice.number}",
                                              "subject": f"{invoice.number} {invoice.issue_date.isoformat()}"},
                                lang=invoice.language)

