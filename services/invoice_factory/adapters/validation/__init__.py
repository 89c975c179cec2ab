"""Offline e-invoice validation: XSD plus the official CEN EN 16931 and KoSIT XRechnung schematrons.

A document that passes here passes the validators receivers run: the rules
are the official ones, fetched unmodified from Maven Central into the
download cache by deploy/local/rules.sh (folder in $CLOUDBILL_RULES_DIR),
and run as published. `validate` never raises for an invalid document; it
returns every finding, warnings included (`Finding.is_error`).
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from services.invoice_factory.adapters.validation.findings import Finding
from services.invoice_factory.adapters.validation.schematron import run_schematron
from services.invoice_factory.adapters.validation.xsd import check_xsd
from services.invoice_factory.domain import Profile

RULES = {
    Profile.CII_EN16931: ("en16931/EN16931-CII-validation.xslt",),
    Profile.XRECHNUNG_CII: ("en16931/EN16931-CII-validation.xslt", "xrechnung/XRechnung-CII-validation.xslt"),
    Profile.XRECHNUNG_UBL: ("en16931/EN16931-UBL-validation.xslt", "xrechnung/XRechnung-UBL-validation.xslt"),
}
_ALIASES = {"zugferd": Profile.CII_EN16931, "factur-x": Profile.CII_EN16931}


def validate(xml_bytes: bytes, flavour: Profile | str, rules_dir: Path | None = None) -> list[Finding]:
    """XSD and schematron findings for `xml_bytes` as `flavour` (cii-en16931 alias zugferd, xrechnung-cii, xrechnung-ubl)."""
    profile = _ALIASES.get(str(flavour)) or Profile(flavour)
    try:
        document = etree.fromstring(xml_bytes)
    except etree.XMLSyntaxError as error:
        return [Finding("xml", "XML", "fatal", str(error))]
    findings = check_xsd(document)
    for rules in RULES[profile]:
        findings += run_schematron(xml_bytes, rules, rules_dir)
    return findings


def errors(findings: list[Finding]) -> list[Finding]:
    """The findings that make a document invalid (fatal and error), without warnings."""
    return [finding for finding in findings if finding.is_error]


__all__ = ["Finding", "errors", "validate"]
