"""Dunning and retry rules without I/O: which reminder level an overdue item has reached, what it costs,
and when a failed collection is tried again.

Levels only go up and each is sent once per invoice; the fee of a level is
charged when the level is reached. Retries back off (3, 7, 14 days by
default) and stop after the last step, leaving the item to dunning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class DunningLevel:
    level: int
    days_overdue: int
    fee_minor: int
    name: str


@dataclass(frozen=True)
class DunningPolicy:
    levels: tuple[DunningLevel, ...] = (
        DunningLevel(1, 7, 0, "Zahlungserinnerung"),
        DunningLevel(2, 21, 500, "1. Mahnung"),
        DunningLevel(3, 35, 1000, "Letzte Mahnung"),
    )
    retry_after_days: tuple[int, ...] = (3, 7, 14)

    def __post_init__(self) -> None:
        days = [l.days_overdue for l in self.levels]
        if days != sorted(days) or len(set(days)) != len(days) or any(l.fee_minor < 0 for l in self.levels):
            raise ValueError("dunning levels need rising days overdue and non-negative fees")

    def reached(self, due: date, today: date) -> list[DunningLevel]:
        """Every level an item due on `due` has reached by `today` (none before it is overdue)."""
        overdue = (today - due).days
        return [l for l in self.levels if overdue >= l.days_overdue]

    def new_levels(self, due: date, today: date, already: set[int]) -> list[DunningLevel]:
        """Levels to send now: reached and not sent before; a skipped level (a late run) is not sent after a higher one."""
        reached = self.reached(due, today)
        highest_sent = max(already, default=0)
        fresh = [l for l in reached if l.level > highest_sent]
        return fresh[-1:]  # only the highest: a customer gets one letter, not three at once

    def next_attempt(self, failed_attempt: int, today: date) -> date | None:
        """When to collect again after attempt number `failed_attempt` (1-based) failed; None when retries are used up."""
        if failed_attempt < 1:
            raise ValueError("attempts count from 1")
        if failed_attempt > len(self.retry_after_days):
            return None
        return today + timedelta(days=self.retry_after_days[failed_attempt - 1])
