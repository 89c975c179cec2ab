"""Schematron rules compiled to XSLT, run with Saxon, read back from the SVRL report.

The CEN EN 16931 and KoSIT XRechnung rules are published as XSLT 2.0, which
lxml (libxslt, XSLT 1.0) cannot run; saxonche can. Compiling the 0.9 MB CEN
stylesheet takes seconds, so each is compiled once per process and reused.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path

from lxml import etree

from services.invoice_factory.adapters.validation.findings import Finding

SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _processor():
    from saxonche import PySaxonProcessor

    return PySaxonProcessor(license=False)


def rules_dir(explicit: Path | None = None) -> Path:
    """Where the official rules are: `explicit`, else $CLOUDBILL_RULES_DIR (filled by deploy/local/rules.sh).

    The rules are third-party artefacts (EUPL-1.2 and Apache-2.0), fetched
    unmodified from Maven Central into the download cache, not kept in this
    repository.
    """
    folder = explicit or (Path(os.environ["CLOUDBILL_RULES_DIR"]) if os.environ.get("CLOUDBILL_RULES_DIR") else None)
    if folder is None or not folder.is_dir():
        raise FileNotFoundError("e-invoice rules not found: run deploy/local/rules.sh and set CLOUDBILL_RULES_DIR")
    return folder


@lru_cache(maxsize=None)
def _executable(path: str):
    return _processor().new_xslt30_processor().compile_stylesheet(stylesheet_file=path)


def run_schematron(xml: bytes, relative: str, folder: Path | None = None) -> list[Finding]:
    """Every failed assertion of the rules in `<rules dir>/<relative>`, warnings included."""
    with _lock:  # one Saxon processor per process; executables are not documented as thread-safe
        executable = _executable(str(rules_dir(folder) / relative))
        node = _processor().parse_xml(xml_text=xml.decode("utf-8"))
        report = executable.transform_to_string(xdm_node=node)
    svrl = etree.fromstring(report.encode("utf-8"))
    findings = []
    for failed in svrl.iterfind(".//svrl:failed-assert", SVRL):
        text = " ".join((failed.findtext("svrl:text", namespaces=SVRL) or "").split())
        findings.append(Finding(relative, failed.get("id") or "?", failed.get("flag") or "fatal", text,
                                failed.get("location") or ""))
    return findings
