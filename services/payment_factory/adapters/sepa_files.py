"""SEPA files: pain.008 direct-debit batches and pain.001 credit transfers, built with sepaxml and checked
against the ISO 20022 schemas before anyone can send them; IBANs and BICs checked with schwifty.

A file that does not validate is never returned: a bank rejects the whole
batch for one bad field, so we refuse it here, naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import sepaxml
from lxml import etree
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from services.payment_factory.domain.sepa import Mandate, SepaError, SequenceType, check_creditor_id

SCHEMAS = Path(sepaxml.__file__).parent / "schemas"
PAIN_008 = "pain.008.001.02"
PAIN_001 = "pain.001.001.03"


def check_iban(value: str, field: str = "iban") -> IBAN:
    try:
        return IBAN(value)
    except SchwiftyException as exc:
        raise SepaError(field, f"{value!r} is not a valid IBAN: {exc}") from None


def bic_for(iban: IBAN, given: str | None, field: str = "bic") -> str:
    """The BIC given (checked), or the one the IBAN's bank code names."""
    if given:
        try:
            return str(BIC(given))
        except SchwiftyException as exc:
            raise SepaError(field, f"{given!r} is not a valid BIC: {exc}") from None
    if iban.bic is None:
        raise SepaError(field, f"no BIC known for {iban.compact}; give one")
    return str(iban.bic)


@cache
def schema(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / f"{name}.xsd")))


def validate(xml: bytes, name: str) -> None:
    doc = etree.fromstring(xml)
    xsd = schema(name)
    if not xsd.validate(doc):
        raise SepaError("file", f"{name} does not validate: {xsd.error_log.last_error}")


@dataclass(frozen=True)
class Creditor:
    name: str
    iban: str
    bic: str | None
    creditor_id: str
    currency: str = "EUR"


@dataclass(frozen=True)
class Collection:
    end_to_end_id: str
    mandate: Mandate
    sequence: SequenceType
    amount_minor: int
    collection_date: date
    text: str


def pain008(creditor: Creditor, collections: list[Collection]) -> bytes:
    """One direct-debit file; sepaxml groups the collections into batches by sequence type and date."""
    iban = check_iban(creditor.iban, "creditor.iban")
    doc = sepaxml.SepaDD({"name": creditor.name, "IBAN": iban.compact, "BIC": bic_for(iban, creditor.bic, "creditor.bic"), "batch": True,
                          "creditor_id": check_creditor_id(creditor.creditor_id), "currency": creditor.currency,
                          "instrument": collections[0].mandate.scheme.value if collections else "CORE"}, schema=PAIN_008)
    for c in collections:
        debtor = check_iban(c.mandate.iban, "mandate.iban")
        doc.add_payment({"name": c.mandate.debtor_name, "IBAN": debtor.compact, "BIC": bic_for(debtor, c.mandate.bic, "mandate.bic"),
                         "amount": c.amount_minor, "type": c.sequence.value, "collection_date": c.collection_date,
                         "mandate_id": c.mandate.reference, "mandate_date": c.mandate.signed_on, "description": c.text,
                         "endtoend_id": c.end_to_end_id})
    xml = doc.export(validate=False)
    validate(xml, PAIN_008)
    return xml


@dataclass(frozen=True)
class CreditTransfer:
    end_to_end_id: str
    name: str
    iban: str
    bic: str | None
    amount_minor: int
    execution_date: date
    text: str


def pain001(debtor_name: str, debtor_iban: str, debtor_bic: str | None, transfers: list[CreditTransfer], currency: str = "EUR") -> bytes:
    """Refunds and payouts as one credit-transfer file, debiting our own account."""
    own = check_iban(debtor_iban, "debtor.iban")
    doc = sepaxml.SepaTransfer({"name": debtor_name, "IBAN": own.compact, "BIC": bic_for(own, debtor_bic, "debtor.bic"), "batch": True,
                                "currency": currency}, schema=PAIN_001)
    for t in transfers:
        to = check_iban(t.iban, "iban")
        doc.add_payment({"name": t.name, "IBAN": to.compact, "BIC": bic_for(to, t.bic), "amount": t.amount_minor,
                         "execution_date": t.execution_date, "description": t.text, "endtoend_id": t.end_to_end_id})
    xml = doc.export(validate=False)
    validate(xml, PAIN_001)
    return xml
