"""Budgets for postpaid subscriptions: which warning levels a period's usage or charges have reached.

A budget has a limit and levels in percent of it (50, 80, 100 ...). Each
level is announced once per period, when the value first reaches it; a
value that jumps past several levels at once announces each of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Budget:
    id: str
    kind: str  # "charges": net amount of the period in minor units; "usage": quantity billed by one charge
    limit: Decimal
    levels: tuple[int, ...]  # percent of the limit, ascending
    charge_code: str | None = None


def reached(budget: Budget, value: Decimal, announced: set[int]) -> list[int]:
    """The levels `value` has reached that were not announced yet in this period, lowest first."""
    return [level for level in budget.levels if level not in announced and value * 100 >= budget.limit * level]


def usage_of(charge_code: str, lines: list[dict]) -> Decimal:
    """The quantity a charge billed: its usage and tier-step lines (fees, caps and info lines are no usage)."""
    return sum((Decimal(str(l["quantity"])) for l in lines if l["charge_code"] == charge_code and l["kind"] in ("usage", "tier_step")),
               Decimal(0))
