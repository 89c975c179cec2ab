"""Double-entry transfers: legs that each debit one account and credit another by the same amount.

A transfer balances by construction because a leg cannot be one-sided. A
transfer may carry legs in several currencies (each leg in one), but an
account appears in one currency only. The body hash lets a repeated request
with the same idempotency key be told apart from a different one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Iterable, Mapping

from libs.money import Money, UnknownCurrency, check_currency
from services.payment_factory.domain.ledger_accounts import Balance
from services.payment_factory.domain.ledger_errors import CurrencyMismatch, InvalidTransfer


class TransferStatus(str, Enum):
    POSTED = "posted"
    PENDING = "pending"  # a hold not yet resolved
    VOIDED = "voided"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Leg:
    debit_account: str
    credit_account: str
    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount_minor, int) or isinstance(self.amount_minor, bool) or self.amount_minor <= 0:
            raise InvalidTransfer("a leg moves a positive integer amount of minor units")
        if not self.debit_account or not self.credit_account or self.debit_account == self.credit_account:
            raise InvalidTransfer("a leg debits one account and credits another")
        try:
            check_currency(self.currency)
        except UnknownCurrency as exc:
            raise InvalidTransfer(str(exc)) from None

    @classmethod
    def of(cls, debit_account: str, credit_account: str, amount: Money) -> Leg:
        return cls(debit_account, credit_account, amount.minor, amount.currency)

    def swapped(self) -> Leg:
        return Leg(self.credit_account, self.debit_account, self.amount_minor, self.currency)

    def with_amount(self, amount_minor: int) -> Leg:
        return Leg(self.debit_account, self.credit_account, amount_minor, self.currency)


def check_legs(legs: Iterable[Leg]) -> tuple[Leg, ...]:
    """Legs as a tuple, refused when empty or when one account shows up in two currencies."""
    legs = tuple(legs)
    if not legs:
        raise InvalidTransfer("a transfer needs at least one leg")
    seen: dict[str, str] = {}
    for leg in legs:
        if not isinstance(leg, Leg):
            raise InvalidTransfer("legs must be Leg values")
        for account in (leg.debit_account, leg.credit_account):
            if seen.setdefault(account, leg.currency) != leg.currency:
                raise CurrencyMismatch(account, seen[account], leg.currency)
    return legs


def account_deltas(legs: Iterable[Leg], pending: bool) -> dict[str, Balance]:
    """Net change of each account's running totals; netting lets one transfer both debit and credit an account."""
    deltas: dict[str, Balance] = {}
    for leg in legs:
        debit = Balance(debits_pending=leg.amount_minor) if pending else Balance(debits_posted=leg.amount_minor)
        credit = Balance(credits_pending=leg.amount_minor) if pending else Balance(credits_posted=leg.amount_minor)
        deltas[leg.debit_account] = deltas.get(leg.debit_account, Balance()) + debit
        deltas[leg.credit_account] = deltas.get(leg.credit_account, Balance()) + credit
    return deltas


def body_hash(legs: Iterable[Leg], metadata: Mapping[str, Any], **refs: object) -> str:
    """A stable digest of what a request asks for; the idempotency key itself is not part of it."""
    body = {
        "legs": [[l.debit_account, l.credit_account, l.amount_minor, l.currency] for l in legs],
        "metadata": metadata,
        **{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in refs.items()},
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class TransferRequest:
    """A transfer to make: posted at once, or held as pending when `pending` is set."""

    idempotency_key: str
    legs: tuple[Leg, ...]
    metadata: Mapping[str, Any] = field(default_factory=dict)
    pending: bool = False
    expires_at: datetime | None = None  # holds only; a hold without one waits until posted or voided
    reverses: str | None = None

    def __post_init__(self) -> None:
        if not self.idempotency_key or len(self.idempotency_key) > 200:
            raise InvalidTransfer("an idempotency key has 1 to 200 characters")
        object.__setattr__(self, "legs", check_legs(self.legs))
        if self.expires_at is not None and (not self.pending or self.expires_at.tzinfo is None):
            raise InvalidTransfer("expires_at is an aware datetime and belongs to holds only")
        if self.pending and self.reverses:
            raise InvalidTransfer("a reversal is posted, never held")
        try:
            json.dumps(self.metadata, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError):
            raise InvalidTransfer("metadata must be plain JSON") from None

    def body_hash(self) -> str:
        """Computed once per request (the group-commit writer asks for it in the caller's thread, not its own)."""
        cached = self.__dict__.get("_body_hash")
        if cached is None:
            cached = body_hash(self.legs, self.metadata, pending=self.pending, expires_at=self.expires_at, reverses=self.reverses)
            object.__setattr__(self, "_body_hash", cached)
        return cached


@dataclass(frozen=True)
class Transfer:
    """A recorded transfer. A hold keeps its id; posting it records a new transfer whose pending_id names the hold."""

    id: str
    tenant_id: str
    idempotency_key: str
    status: TransferStatus
    is_hold: bool
    legs: tuple[Leg, ...]
    created_at: datetime
    metadata: Mapping[str, Any] = field(default_factory=dict)
    pending_id: str | None = None
    reverses: str | None = None
    expires_at: datetime | None = None
    resolved_at: datetime | None = None
    replayed: bool = field(default=False, compare=False)  # True when an idempotent repeat returned the original
    # the balances of the transfer's accounts right after it, when the ledger knew them from the rows it locked to post
    # it (the batch path); None otherwise, e.g. for a replay. Callers use it to answer without reading the accounts again.
    balances_after: Mapping[str, Balance] | None = field(default=None, compare=False)
