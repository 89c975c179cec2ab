"""Rendering an Invoice for people and machines: the PDF/A-3 with embedded CII, and the e-invoice XML.

`render_pdf` gives the ZUGFeRD/Factur-X PDF (the default B2B e-invoice);
`render_xml` gives a standalone e-invoice: Factur-X CII (EN 16931), or
XRechnung 3.0 in CII or UBL for public-sector buyers. All are built from the
same domain Invoice and `compute_totals`, so the views cannot disagree.
"""

from __future__ import annotations

from services.invoice_factory.adapters.rendering.branding import Branding
from services.invoice_factory.adapters.rendering.cii import build_cii
from services.invoice_factory.adapters.rendering.html import invoice_html
from services.invoice_factory.adapters.rendering.pdf import render_pdf
from services.invoice_factory.adapters.rendering.ubl import build_ubl
from services.invoice_factory.domain import Invoice, Profile


def render_xml(invoice: Invoice, flavour: Profile | str) -> bytes:
    """The e-invoice XML for `flavour`: cii-en16931, xrechnung-cii or xrechnung-ubl."""
    profile = Profile(flavour)
    return build_ubl(invoice) if profile is Profile.XRECHNUNG_UBL else build_cii(invoice, profile)


__all__ = ["Branding", "invoice_html", "render_pdf", "render_xml"]
