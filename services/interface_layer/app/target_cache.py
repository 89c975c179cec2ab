"""Remembering which subscription bills a (customer, metric, subscription hint) for a few seconds at the edge.

Why: the raw Kafka path forwards tens of thousands of events a second for a few thousand meters; asking the
billing factory for every batch was a round trip (and two queries) per batch for answers that rarely change.

Why it stays right:
- Only successful answers are kept. An unknown customer or metric, or a customer without a running subscription,
  is asked again every time, so a NEW customer, metric or subscription is used as soon as it exists.
- An answer is forgotten at the latest when the chosen subscription ends (`valid_until` from the billing factory:
  a cancellation for the end of the period), and after `ttl_seconds` whatever happened.
- Every change this edge forwards to the billing factory for a tenant (subscriptions, customers, plans, metrics:
  any non-GET) drops that tenant's answers at once (`forget`), after the change was made; an answer asked for
  before that and arriving after it is not kept (`generation`). So a subscription
  cancelled now, or moved to another plan, through this edge gets no usage from its cached answer; through another
  edge replica it may for at most `ttl_seconds` (`CLOUDBILL_EDGE_USAGE_TARGET_CACHE_SECONDS`, 0 turns it off), as
  usage already in flight when it was cancelled would. The billing factory still records such usage on the
  subscription it names; nothing is lost or counted twice, since recording deduplicates by event id.
- The conflicting-duplicate check (same id, another payload) is not cached at all: on the raw path it is made
  where the events are recorded (`billing_factory/app/record_usage.py`), which dead-letters the conflict.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Callable, Hashable

MAX_ENTRIES_PER_TENANT = 100_000


class TargetCache:
    def __init__(self, ttl_seconds: float, monotonic: Callable[[], float] = time.monotonic,
                 wall: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._wall = wall
        self._entries: dict[str, dict[Hashable, tuple[float, object]]] = {}
        self._generations: dict[str, int] = {}

    @property
    def enabled(self) -> bool:
        return self._ttl > 0

    def get(self, tenant_id: str, key: Hashable):
        entry = self._entries.get(tenant_id, {}).get(key)
        if entry is None:
            return None
        if entry[0] <= self._monotonic():
            del self._entries[tenant_id][key]
            return None
        return entry[1]

    def generation(self, tenant_id: str) -> int:
        """Read before asking the billing factory, handed to `put`: a `forget` in between voids the answer."""
        return self._generations.get(tenant_id, 0)

    def put(self, tenant_id: str, key: Hashable, target, valid_until: datetime | None, generation: int) -> None:
        if not self.enabled or generation != self.generation(tenant_id):
            return
        now = self._monotonic()
        expires = now + self._ttl
        if valid_until is not None:
            expires = min(expires, now + (valid_until - self._wall()).total_seconds())
        if expires <= now:
            return
        entries = self._entries.setdefault(tenant_id, {})
        if len(entries) >= MAX_ENTRIES_PER_TENANT:
            entries.clear()
        entries[key] = (expires, target)

    def forget(self, tenant_id: str) -> None:
        """Drop a tenant's answers: call it after forwarding any change of that tenant's billing data."""
        self._generations[tenant_id] = self.generation(tenant_id) + 1
        self._entries.pop(tenant_id, None)
