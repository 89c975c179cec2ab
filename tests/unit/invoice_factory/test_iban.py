"""IBAN check digits (ISO 13616 mod 97) as the draft check uses them."""

import pytest

from services.invoice_factory.domain import is_valid_iban


@pytest.mark.parametrize("iban,valid", [
    ("DE89370400440532013000", True), ("DE89 3704 0044 0532 0130 00", True), ("GB82WEST12345698765432", True),
    ("DE88370400440532013000", False), ("DE89", False), ("", False), ("1234567890123456", False),
])
def test_iban(iban, valid):
    assert is_valid_iban(iban) is valid
