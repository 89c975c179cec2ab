"""Two-phase transfers: a hold reserves funds as pending; later it is posted (fully or in part), voided or expires.

This is how a device's consumption is authorized up front and settled at
the measured amount. Resolving a hold releases all its pending amounts; a
post then moves the settled amounts as posted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Sequence

from services.payment_factory.domain.ledger import Leg, Transfer, TransferStatus, account_deltas
from services.payment_factory.domain.ledger_accounts import Balance
from services.payment_factory.domain.ledger_errors import AmountExceedsHold, InvalidTransfer, NotReversible, TransferNotPending


def is_expired(hold: Transfer, now: datetime) -> bool:
    return hold.expires_at is not None and now >= hold.expires_at


def ensure_pending(hold: Transfer, now: datetime | None = None) -> None:
    """Posting needs a live hold: one past its expiry counts as expired even before the sweeper marks it.

    Voiding passes no `now`: releasing a lapsed hold early is what expiring it would do anyway.
    """
    if not hold.is_hold or hold.status is not TransferStatus.PENDING:
        raise TransferNotPending(hold.id, hold.status.value if hold.is_hold else "not a hold")
    if now is not None and is_expired(hold, now):
        raise TransferNotPending(hold.id, TransferStatus.EXPIRED.value)


def settle(hold: Transfer, amounts: Sequence[int] | None) -> tuple[Leg, ...]:
    """The legs a post moves: the held amounts, or per leg at most them; legs settled at zero drop out."""
    if amounts is None:
        return hold.legs
    if len(amounts) != len(hold.legs):
        raise InvalidTransfer(f"hold {hold.id} has {len(hold.legs)} legs, {len(amounts)} amounts given")
    settled = []
    for index, (leg, amount) in enumerate(zip(hold.legs, amounts)):
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
            raise InvalidTransfer("a posted amount is a non-negative integer of minor units")
        if amount > leg.amount_minor:
            raise AmountExceedsHold(hold.id, index, amount, leg.amount_minor)
        if amount:
            settled.append(leg.with_amount(amount))
    if not settled:
        raise InvalidTransfer("posting nothing is a void")
    return tuple(settled)


def release(hold: Transfer) -> dict[str, Balance]:
    """Deltas that take the hold's pending amounts off its accounts."""
    return {account: -delta for account, delta in account_deltas(hold.legs, pending=True).items()}


def reversal_legs(original: Transfer) -> tuple[Leg, ...]:
    """A correction moves the same amounts back; holds are voided instead."""
    if original.is_hold:
        raise NotReversible(f"transfer {original.id} is a hold: void it, or reverse its post")
    return tuple(leg.swapped() for leg in original.legs)
