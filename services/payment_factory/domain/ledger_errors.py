"""Typed ledger errors: each names what was refused, so HTTP can map it once to a problem response.

Every error is raised before the ledger writes anything for the request, so a
caller that catches it leaves no partial transfer behind.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every refusal the ledger gives."""


class InvalidTransfer(LedgerError, ValueError):
    """The request is malformed (no legs, non-positive amount, one account on both sides, ...)."""


class UnknownAccount(LedgerError, LookupError):
    """No such account for this tenant; a foreign tenant's account is unknown, never forbidden."""

    def __init__(self, account_id: str):
        super().__init__(f"unknown account {account_id}")
        self.account_id = account_id


class UnknownTransfer(LedgerError, LookupError):
    def __init__(self, transfer_id: str):
        super().__init__(f"unknown transfer {transfer_id}")
        self.transfer_id = transfer_id


class CurrencyMismatch(LedgerError):
    """A leg's currency differs from its account's, or one account appears in two currencies."""

    def __init__(self, account_id: str, expected: str, got: str):
        super().__init__(f"account {account_id} is in {expected}, not {got}")
        self.account_id, self.expected, self.got = account_id, expected, got


class InsufficientFunds(LedgerError):
    """The account forbids overdraft and the movement would exceed what it holds."""

    def __init__(self, account_id: str, available: int, requested: int):
        super().__init__(f"account {account_id}: {requested} requested, {available} available")
        self.account_id, self.available, self.requested = account_id, available, requested


class IdempotencyConflict(LedgerError):
    """The idempotency key (or account code) was used before with a different body."""

    def __init__(self, key: str):
        super().__init__(f"idempotency key {key!r} was used with a different body")
        self.key = key


class TransferNotPending(LedgerError):
    """Only a pending hold can be posted, voided or expired."""

    def __init__(self, transfer_id: str, status: str):
        super().__init__(f"transfer {transfer_id} is {status}, not pending")
        self.transfer_id, self.status = transfer_id, status


class AmountExceedsHold(LedgerError):
    """A post may take at most what the hold reserved on that leg."""

    def __init__(self, transfer_id: str, leg: int, requested: int, held: int):
        super().__init__(f"hold {transfer_id} leg {leg}: {requested} requested, {held} held")
        self.transfer_id, self.leg, self.requested, self.held = transfer_id, leg, requested, held


class NotReversible(LedgerError):
    """A hold is voided, not reversed; a transfer is reversed at most once."""
