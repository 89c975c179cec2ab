"""UBL 2.1 namespaces and the element helpers the UBL builders share."""

from __future__ import annotations

from lxml import etree

from libs.money import Money
from services.invoice_factory.adapters.rendering.xml_text import amount_text

CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
ROOT_NS = {"Invoice": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
           "CreditNote": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"}


def cac(parent: etree._Element, tag: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{CAC}}}{tag}")


def cbc(parent: etree._Element, tag: str, text: str, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{CBC}}}{tag}", attrs)
    element.text = text
    return element


def money(parent: etree._Element, tag: str, amount: Money) -> None:
    cbc(parent, tag, amount_text(amount), currencyID=amount.currency)
