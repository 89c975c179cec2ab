"""SEPA rules without I/O: mandates, sequence types, pre-notification, creditor ids, return reason codes.

A direct debit needs a signed mandate. Its first collection is FRST and later
ones RCUR (a one-off mandate is OOFF, the last of a series FNAL); a mandate
not used for 36 months lapses. The debtor must be told the amount and date
before the collection (pre-notification, 14 days unless agreed shorter).
Banks report failed or reversed debits with ISO 20022 reason codes; some are
worth retrying (insufficient funds), others end the mandate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum

MANDATE_REFERENCE = re.compile(r"^[A-Za-z0-9+?/\-:().,' ]{1,35}$")
CREDITOR_ID = re.compile(r"^([A-Z]{2})(\d{2})([A-Za-z0-9]{3})([A-Za-z0-9]{1,28})$")
LAPSE_AFTER = timedelta(days=36 * 30)


class SepaError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


class Scheme(str, Enum):
    CORE = "CORE"
    B2B = "B2B"


class MandateKind(str, Enum):
    RECURRING = "recurring"
    ONE_OFF = "one_off"


class SequenceType(str, Enum):
    FIRST = "FRST"
    RECURRING = "RCUR"
    ONE_OFF = "OOFF"
    FINAL = "FNAL"


def _mod97(digits: str) -> int:
    return int(digits) % 97


def _to_digits(text: str) -> str:
    return "".join(str(int(ch, 36)) for ch in text.upper())


def check_creditor_id(creditor_id: str) -> str:
    """A SEPA creditor identifier, e.g. DE98ZZZ09999999999: the check digits cover country and national id, not the business code."""
    cid = creditor_id.replace(" ", "").upper()
    m = CREDITOR_ID.match(cid)
    if not m:
        raise SepaError("creditor_id", f"{creditor_id!r} is not a SEPA creditor identifier (CCkkBBB + national id)")
    country, check, _business, national = m.groups()
    if _mod97(_to_digits(national + country + check)) != 1:
        raise SepaError("creditor_id", f"{creditor_id!r} fails its check digits")
    return cid


def check_mandate_reference(reference: str) -> str:
    if not MANDATE_REFERENCE.match(reference):
        raise SepaError("reference", "a mandate reference has 1 to 35 characters of the SEPA Latin set")
    return reference


@dataclass(frozen=True)
class Mandate:
    reference: str
    creditor_id: str
    scheme: Scheme
    kind: MandateKind
    signed_on: date
    debtor_name: str
    iban: str
    bic: str
    last_used_on: date | None = None
    revoked: bool = False

    def usable_on(self, day: date) -> bool:
        """Revoked, or unused for 36 months since signing or last use: no more collections."""
        anchor = self.last_used_on or self.signed_on
        return not self.revoked and day - anchor <= LAPSE_AFTER and (self.kind is MandateKind.RECURRING or self.last_used_on is None)


def sequence_type(mandate: Mandate, final: bool = False) -> SequenceType:
    if mandate.kind is MandateKind.ONE_OFF:
        return SequenceType.ONE_OFF
    if mandate.last_used_on is None:
        return SequenceType.FIRST
    return SequenceType.FINAL if final else SequenceType.RECURRING


def earliest_collection(today: date, prenotification_days: int) -> date:
    """The first due date a collection may carry: after the pre-notification period, never a weekend."""
    if prenotification_days < 1:
        raise SepaError("prenotification_days", "the debtor must be notified at least one day ahead")
    day = today + timedelta(days=prenotification_days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class ReturnReason:
    code: str
    text: str
    retry: bool  # worth another collection attempt on the same mandate
    mandate_ends: bool  # the mandate cannot be used again


RETURN_REASONS = {r.code: r for r in (
    ReturnReason("AC01", "account identifier incorrect", False, True),
    ReturnReason("AC04", "account closed", False, True),
    ReturnReason("AC06", "account blocked", False, False),
    ReturnReason("AC13", "debtor account is a consumer account (B2B)", False, True),
    ReturnReason("AG01", "direct debit forbidden on this account", False, True),
    ReturnReason("AG02", "invalid bank operation code", False, False),
    ReturnReason("AM04", "insufficient funds", True, False),
    ReturnReason("AM05", "duplicate collection", False, False),
    ReturnReason("BE05", "creditor unknown to the debtor", False, True),
    ReturnReason("FF01", "invalid file format", True, False),
    ReturnReason("MD01", "no valid mandate", False, True),
    ReturnReason("MD02", "mandate data missing or wrong", False, False),
    ReturnReason("MD06", "refund requested by the debtor", False, False),
    ReturnReason("MD07", "debtor deceased", False, True),
    ReturnReason("MS02", "refused by the debtor", False, False),
    ReturnReason("MS03", "reason not specified", True, False),
    ReturnReason("RC01", "bank identifier incorrect", False, False),
    ReturnReason("RR01", "regulatory: debtor account or identification missing", False, False),
    ReturnReason("SL01", "specific service of the debtor's bank", False, False),
)}


def return_reason(code: str | None) -> ReturnReason:
    """A known reason, or an unknown code treated as not retryable (a human looks at it)."""
    if code and code in RETURN_REASONS:
        return RETURN_REASONS[code]
    return ReturnReason(code or "NARR", "unknown reason", False, False)
