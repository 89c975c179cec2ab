"""How the buyer pays: SEPA credit transfer to the seller's account, or SEPA direct debit under a mandate.

Codes are UNTDID 4461 as EN 16931 uses them (BT-81): 58 SEPA credit transfer,
59 SEPA direct debit. A direct debit names the mandate (BT-89), the seller's
creditor id (BT-90) and the debited account (BT-91, XRechnung BR-DE-31).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PaymentMeansCode(StrEnum):
    SEPA_CREDIT_TRANSFER = "58"
    SEPA_DIRECT_DEBIT = "59"


@dataclass(frozen=True)
class BankAccount:
    iban: str
    account_holder: str
    bic: str | None = None
    bank_name: str | None = None


@dataclass(frozen=True)
class PaymentMeans:
    code: PaymentMeansCode
    seller_account: BankAccount | None = None
    mandate_reference: str | None = None
    creditor_id: str | None = None
    debtor_iban: str | None = None

    @classmethod
    def credit_transfer(cls, account: BankAccount) -> PaymentMeans:
        return cls(PaymentMeansCode.SEPA_CREDIT_TRANSFER, seller_account=account)

    @classmethod
    def direct_debit(cls, mandate_reference: str, creditor_id: str, debtor_iban: str,
                     seller_account: BankAccount | None = None) -> PaymentMeans:
        return cls(PaymentMeansCode.SEPA_DIRECT_DEBIT, seller_account, mandate_reference, creditor_id, debtor_iban)
