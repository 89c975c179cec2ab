"""The invoice PDF: WeasyPrint renders the HTML as PDF/A-3b, factur-x embeds the CII (ZUGFeRD/Factur-X).

A plain PDF is no e-invoice in Germany since 2025; the embedded CII XML
(EN 16931 profile) is the legally relevant part and the PDF its readable
view. Both come from the same Invoice, so they cannot disagree. Fonts are
embedded by WeasyPrint (DejaVu Sans, subset), as PDF/A requires.
"""

from __future__ import annotations

from services.invoice_factory.adapters.rendering import styles
from services.invoice_factory.adapters.rendering.branding import Branding
from services.invoice_factory.adapters.rendering.cii import build_cii
from services.invoice_factory.adapters.rendering.html import invoice_html
from services.invoice_factory.adapters.rendering.texts import TEXTS
from services.invoice_factory.domain import Invoice, Profile


def html_to_pdfa(html: str, lang: str = "de", branding: Branding | None = None) -> bytes:
    """PDF/A-3b from HTML rendered without inline CSS (`invoice_html(..., inline_css=False)`)."""
    from weasyprint import HTML

    stylesheets = [styles.base_css(lang), styles.brand_css((branding or Branding()).primary_colour)]
    return HTML(string=html).write_pdf(pdf_variant="pdf/a-3b", stylesheets=stylesheets, font_config=styles.font_config())


def embed_cii(pdf: bytes, cii: bytes, invoice: Invoice, *, check_xsd: bool = False) -> bytes:
    """Attach `cii` as factur-x.xml with the Factur-X XMP metadata (level EN 16931)."""
    from facturx import generate_from_binary

    lang = invoice.language if invoice.language in TEXTS else "de"
    title = f"{TEXTS[lang][invoice.type_code.value]} {invoice.number or ''}".strip()
    metadata = {"author": invoice.seller.name, "keywords": "Factur-X, ZUGFeRD, EN 16931", "title": title,
                "subject": f"{title} {invoice.issue_date.isoformat()}"}
    return generate_from_binary(pdf, cii, flavor="factur-x", level="en16931", check_xsd=check_xsd,
                                pdf_metadata=metadata, lang=lang)


def render_pdf(invoice: Invoice, branding: Branding | None = None) -> bytes:
    """A ZUGFeRD/Factur-X invoice: PDF/A-3b with the EN 16931 CII embedded.

    The XSD check is left to the validation adapter and the tests; running
    it on every render would double the time per invoice.
    """
    lang = invoice.language if invoice.language in TEXTS else "de"
    pdf = html_to_pdfa(invoice_html(invoice, branding, inline_css=False), lang, branding)
    return embed_cii(pdf, build_cii(invoice, Profile.CII_EN16931), invoice)
