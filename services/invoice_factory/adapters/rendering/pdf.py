"""The invoice PDF: WeasyPrint writes it as PDF/A-3b with the CII attached as Factur-X (ZUGFeRD) in one pass.

A plain PDF is no e-invoice in Germany since 2025; the embedded CII XML
(EN 16931 profile) is the legally relevant part and the PDF its readable
view. Both come from the same Invoice, so they cannot disagree. Fonts are
embedded by WeasyPrint (DejaVu Sans, subset), as PDF/A requires.

Factur-X asks three things of the PDF/A-3: the XML as an embedded file
named factur-x.xml, related to the document (/AF, AFRelationship /Data),
and the fx: properties in the XMP metadata together with their PDF/A
extension schema description. WeasyPrint writes the attachment and the AF
entry itself; `_finish_facturx` adds the XMP properties to WeasyPrint's own XMP
packet right before the file is written, so the PDF is never parsed and
written a second time (that round trip through pypdf cost about 10% of a
render).
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from datetime import datetime, timezone

from services.invoice_factory.adapters.rendering import styles
from services.invoice_factory.adapters.rendering.branding import Branding
from services.invoice_factory.adapters.rendering.cii import build_cii
from services.invoice_factory.adapters.rendering.html import invoice_html
from services.invoice_factory.adapters.rendering.texts import TEXTS
from services.invoice_factory.domain import Invoice, Profile

FACTURX_FILENAME = "factur-x.xml"
FACTURX_KEYWORDS = ("Factur-X", "ZUGFeRD", "EN 16931")

# The fx: properties of Factur-X 1.0 (level EN 16931) and the PDF/A extension schema that declares them:
# PDF/A allows a property outside the predefined XMP schemas only together with such a description.
_FX = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
_FX_PROPERTIES = (("DocumentFileName", "name of the embedded XML invoice file"),
                  ("DocumentType", "INVOICE"),
                  ("Version", "version of the Factur-X XML schema"),
                  ("ConformanceLevel", "conformance level of the embedded Factur-X data"))
_FX_SCHEMA = "".join(
    f'<rdf:li rdf:parseType="Resource"><pdfaProperty:name>{name}</pdfaProperty:name>'
    f"<pdfaProperty:valueType>Text</pdfaProperty:valueType><pdfaProperty:category>external</pdfaProperty:category>"
    f"<pdfaProperty:description>{text}</pdfaProperty:description></rdf:li>" for name, text in _FX_PROPERTIES)
FACTURX_XMP = (
    f'<rdf:Description rdf:about="" xmlns:fx="{_FX}"><fx:DocumentType>INVOICE</fx:DocumentType>'
    f"<fx:DocumentFileName>{FACTURX_FILENAME}</fx:DocumentFileName><fx:Version>1.0</fx:Version>"
    "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel></rdf:Description>"
    '<rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" '
    'xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">'
    '<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">'
    f"<pdfaSchema:schema>Factur-X PDFA Extension Schema</pdfaSchema:schema><pdfaSchema:namespaceURI>{_FX}</pdfaSchema:namespaceURI>"
    f"<pdfaSchema:prefix>fx</pdfaSchema:prefix><pdfaSchema:property><rdf:Seq>{_FX_SCHEMA}</rdf:Seq></pdfaSchema:property>"
    "</rdf:li></rdf:Bag></pdfaExtension:schemas></rdf:Description>"
).encode()


def _finish_facturx(_document, pdf) -> None:
    """WeasyPrint finisher: fx: XMP properties into the one rdf:RDF of the packet, the XML typed text/xml, /AF once, images
    not interpolated."""
    metadata = pdf.objects[int(pdf.catalog["Metadata"].split()[0])]
    packet = b"".join(metadata.stream)
    if b"</rdf:RDF>" not in packet:
        raise RuntimeError("WeasyPrint wrote no XMP packet to extend with the Factur-X properties")
    metadata.stream = [packet.replace(b"</rdf:RDF>", FACTURX_XMP + b"</rdf:RDF>", 1)]
    for pdf_object in pdf.objects:
        extra = getattr(pdf_object, "extra", None)
        if extra is None:
            continue
        if extra.get("Type") == "/EmbeddedFile":
            extra["Subtype"] = "/text#2fxml"  # the MIME type Factur-X names for its XML
        elif extra.get("Subtype") == "/Image" and "Interpolate" in extra:
            extra["Interpolate"] = "false"  # PDF/A (ISO 19005-3, 6.2.8): WeasyPrint sets true for a scaled logo
    # WeasyPrint lists an attachment in /AF once from the name tree and once as a file specification
    pdf.catalog["AF"] = type(pdf.catalog["AF"])(dict.fromkeys(pdf.catalog["AF"]))
    pdf.catalog["PageMode"] = "/UseAttachments"


@contextmanager
def _no_cyclic_gc():
    """A render allocates some 10^5 short-lived objects; the cycle collector would walk them many times over.

    It is paused for one render and run once afterwards on the youngest generation, which keeps memory flat.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect(0)


def parse_html(html: str):
    """Stage 1 of a render: the HTML as WeasyPrint's document tree."""
    from weasyprint import HTML

    return HTML(string=html)


def lay_out(html, lang: str = "de", branding: Branding | None = None):
    """Stage 2: styles (parsed once per worker, see `styles`) and layout into pages."""
    stylesheets = [styles.base_css(lang), styles.brand_css((branding or Branding()).primary_colour)]
    return html.render(stylesheets=stylesheets, font_config=styles.font_config(), pdf_variant="pdf/a-3b")


def _describe(document, invoice: Invoice, lang: str) -> None:
    """Info dictionary and XMP (WeasyPrint keeps the two equal, as PDF/A requires): title, author, subject, keywords, dates."""
    title = f"{TEXTS[lang][invoice.type_code.value]} {invoice.number or ''}".strip()
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    meta = document.metadata
    meta.title, meta.authors, meta.keywords = title, [invoice.seller.name], list(FACTURX_KEYWORDS)
    meta.description = f"{title} {invoice.issue_date.isoformat()}"
    meta.created = meta.modified = now


def write_facturx(document, cii: bytes, invoice: Invoice, lang: str = "de") -> bytes:
    """Stage 3: the laid-out pages as PDF/A-3b with `cii` attached as factur-x.xml and declared in the XMP (Factur-X 1.0,
    level EN 16931); fonts subset and embedded."""
    from weasyprint import Attachment

    _describe(document, invoice, lang)
    xml = Attachment(string=cii, name=FACTURX_FILENAME, description="Factur-X XML file", relationship="Data")
    return document.write_pdf(pdf_variant="pdf/a-3b", attachments=[xml], finisher=_finish_facturx)


def facturx_pdf(html: str, cii: bytes, invoice: Invoice, lang: str = "de", branding: Branding | None = None) -> bytes:
    """PDF/A-3b of `html` (rendered without inline CSS) with `cii` embedded as Factur-X."""
    with _no_cyclic_gc():
        return write_facturx(lay_out(parse_html(html), lang, branding), cii, invoice, lang)


def render_pdf(invoice: Invoice, branding: Branding | None = None) -> bytes:
    """A ZUGFeRD/Factur-X invoice: PDF/A-3b with the EN 16931 CII embedded.

    The XSD check is left to the validation adapter and the tests; running
    it on every render would double the time per invoice.
    """
    lang = invoice.language if invoice.language in TEXTS else "de"
    return facturx_pdf(invoice_html(invoice, branding, inline_css=False), build_cii(invoice, Profile.CII_EN16931), invoice, lang, branding)
