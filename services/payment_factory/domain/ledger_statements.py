"""An account statement: the opening totals, one line per transfer touching the account, the closing totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from services.payment_factory.domain.ledger_accounts import Balance


@dataclass(frozen=True, slots=True)
class StatementLine:
    transfer_id: str
    at: datetime
    debit: int
    credit: int
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Statement:
    """Posted movements in [start, end); a multi-leg transfer shows once with its totals on this account."""

    account_id: str
    start: datetime
    end: datetime
    opening: Balance
    lines: tuple[StatementLine, ...]

    @property
    def closing(self) -> Balance:
        moved = Balance(debits_posted=sum(l.debit for l in self.lines), credits_posted=sum(l.credit for l in self.lines))
        return self.opening + moved
