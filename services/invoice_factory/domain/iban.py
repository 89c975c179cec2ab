"""IBAN check for drafts: schwifty validates country length, BBAN format and the ISO 13616 check digits.

A draft with a mistyped account must be refused before it consumes a
number from the gap-free range; schwifty is a pure library, so the domain
stays free of I/O.
"""

from __future__ import annotations

from schwifty import IBAN


def is_valid_iban(iban: str) -> bool:
    try:
        IBAN(iban)
    except ValueError:
        return False
    return True
