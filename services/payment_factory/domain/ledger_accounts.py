"""Ledger accounts: what they are for, which side is their normal balance, which overdraft they forbid.

Balances are four running totals (posted and pending debits and credits)
rather than one signed number, because a hold reserves funds without moving
them and the overdraft rules compare debits against credits, not a sign.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from libs.money import UnknownCurrency, check_currency
from services.payment_factory.domain.ledger_errors import InvalidTransfer


class NormalSide(str, Enum):
    DEBIT = "debit"  # assets: what others owe us or we hold
    CREDIT = "credit"  # liabilities and income: what we owe or earned


class AccountPurpose(str, Enum):
    CUSTOMER_RECEIVABLE = "customer_receivable"
    PREPAID_WALLET = "prepaid_wallet"
    REVENUE = "revenue"
    TAX_PAYABLE = "tax_payable"
    PSP_CLEARING = "psp_clearing"
    BANK = "bank"
    PARTNER_PAYABLE = "partner_payable"
    PLATFORM_FEES = "platform_fees"
    SUSPENSE = "suspense"

    @property
    def normal_side(self) -> NormalSide:
        return NormalSide.DEBIT if self in _DEBIT_NORMAL else NormalSide.CREDIT


_DEBIT_NORMAL = {AccountPurpose.CUSTOMER_RECEIVABLE, AccountPurpose.PSP_CLEARING, AccountPurpose.BANK, AccountPurpose.SUSPENSE}


@dataclass(frozen=True, slots=True)
class AccountFlags:
    """At most one overdraft rule; pending debits count against credits, pending credits do not."""

    debits_must_not_exceed_credits: bool = False
    credits_must_not_exceed_debits: bool = False

    def __post_init__(self) -> None:
        if self.debits_must_not_exceed_credits and self.credits_must_not_exceed_debits:
            raise InvalidTransfer("an account limits debits or credits, not both")

    @classmethod
    def default_for(cls, purpose: AccountPurpose) -> AccountFlags:
        # a prepaid wallet is the customer's money: spending beyond it is refused, not owed
        return cls(debits_must_not_exceed_credits=purpose is AccountPurpose.PREPAID_WALLET)


@dataclass(frozen=True, slots=True)
class Balance:
    debits_posted: int = 0
    credits_posted: int = 0
    debits_pending: int = 0
    credits_pending: int = 0

    def __add__(self, other: Balance) -> Balance:
        return Balance(self.debits_posted + other.debits_posted, self.credits_posted + other.credits_posted,
                       self.debits_pending + other.debits_pending, self.credits_pending + other.credits_pending)

    def __neg__(self) -> Balance:
        return Balance(-self.debits_posted, -self.credits_posted, -self.debits_pending, -self.credits_pending)

    def posted(self, side: NormalSide) -> int:
        """The posted balance, positive on the account's normal side."""
        net = self.debits_posted - self.credits_posted
        return net if side is NormalSide.DEBIT else -net

    def available(self, side: NormalSide) -> int:
        """What may still move away from the normal side: posted minus outgoing holds (a wallet's spendable money)."""
        if side is NormalSide.DEBIT:
            return self.debits_posted - self.credits_posted - self.credits_pending
        return self.credits_posted - self.debits_posted - self.debits_pending

    def violates(self, flags: AccountFlags) -> bool:
        if flags.debits_must_not_exceed_credits and self.debits_posted + self.debits_pending > self.credits_posted:
            return True
        return flags.credits_must_not_exceed_debits and self.credits_posted + self.credits_pending > self.debits_posted

    def headroom(self, flags: AccountFlags) -> int | None:
        """How much more the limited side may grow; None when the account has no limit."""
        if flags.debits_must_not_exceed_credits:
            return self.credits_posted - self.debits_posted - self.debits_pending
        if flags.credits_must_not_exceed_debits:
            return self.debits_posted - self.credits_posted - self.credits_pending
        return None


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """What opening an account asks for; the code is the account's idempotency key within a tenant."""

    code: str
    purpose: AccountPurpose
    currency: str
    owner_type: str | None = None
    owner_id: str | None = None
    flags: AccountFlags | None = None  # None: the purpose's default

    def __post_init__(self) -> None:
        if not self.code or len(self.code) > 200:
            raise InvalidTransfer("an account code has 1 to 200 characters")
        object.__setattr__(self, "purpose", AccountPurpose(self.purpose))
        try:
            check_currency(self.currency)
        except UnknownCurrency as exc:
            raise InvalidTransfer(str(exc)) from None
        if self.flags is None:
            object.__setattr__(self, "flags", AccountFlags.default_for(self.purpose))


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    tenant_id: str
    code: str
    purpose: AccountPurpose
    currency: str
    flags: AccountFlags
    owner_type: str | None = None
    owner_id: str | None = None
    created_at: datetime | None = field(default=None, compare=False)

    def matches(self, spec: AccountSpec) -> bool:
        return (self.purpose, self.currency, self.owner_type, self.owner_id, self.flags) == \
            (spec.purpose, spec.currency, spec.owner_type, spec.owner_id, spec.flags)
