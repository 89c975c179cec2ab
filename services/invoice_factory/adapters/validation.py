"""Offline e-invoice validation: the XSD, the CEN EN 16931 schematron and, for XRechnung, the KoSIT schematron.

The rules are the official ones compiled to XSLT (fetched by deploy/local/rules.sh into CLOUDBILL_RULES_DIR)
and run with Saxon (XSLT 3.0), so a document that passes here passes the validators receivers use.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lxml import etree

SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}
RULES = {
    "zugferd": ["en16931/EN16931-CII-validation.xslt"],
    "xrechnung-cii": ["en16931/EN16931-CII-validation.xslt", "xrechnung/XRechnung-CII-validation.xslt"],
    "xrechnung-ubl": ["en16931/EN16931-UBL-validation.xslt", "xrechnung/XRechnung-UBL-validation.xslt"],
}


@dataclass(frozen=True)
class Finding:
    source: str  # xsd | the rules file
    rule: str
    flag: str  # fatal | warning | error
    text: str


@lru_cache(maxsize=8)
def _compiled(path: str):
    from saxonche import PySaxonProcessor

    processor = PySaxonProcessor(license=False)
    return processor, processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=path)


def validate(xml: bytes, flavour: str, rules_dir: Path) -> list[Finding]:
    """Every failed XSD check and schematron assertion; empty when the document is valid."""
    from facturx import xml_check_xsd

    findings = []
    if flavour != "xrechnung-ubl":  # the CII schemas ship with factur-x; UBL is checked by the schematrons only
        try:
            xml_check_xsd(xml, flavor="factur-x", level="en16931")
        except Exception as exc:  # factur-x raises a plain Exception naming the XSD error
            findings.append(Finding("xsd", "XSD", "fatal", str(exc)[:500]))
    for rules in RULES[flavour]:
        processor, executable = _compiled(str(rules_dir / rules))
        node = processor.parse_xml(xml_text=xml.decode("utf-8"))
        report = etree.fromstring(executable.transform_to_string(xdm_node=node).encode())
        for failed in report.findall(".//svrl:failed-assert", SVRL):
            findings.append(Finding(rules, failed.get("id") or "?", failed.get("flag") or "fatal",
                                    (failed.findtext("svrl:text", namespaces=SVRL) or "").strip()))
    return findings
