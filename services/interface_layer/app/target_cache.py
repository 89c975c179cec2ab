"""Remembering which subscription bills a (customer, metric, subscription hint) for a few seconds at the edge.

Why: the raw Kafka path forwards tens of thousands of events a second for a few thousand meters; asking the
billing factory for every batch was a round trip (and two queries) per batch for answers that rarely change.

Why it stays right:
- Only successful answers are kept. An unknown customer or metric, or a customer without a running subscription,
  is asked again every time, so a NEW customer, metric or subscription is used as soon as it exists.
- An answer is forgotten at the latest when the chosen subscription ends (`valid_until` from the billing factory:
  a cancellation for the end of the period), and after `ttl_seconds` whatever happened.
- Every change this edge forwards to the billing factory for a tenant (subscriptions, customers, plans, metrics:
  any non-GET) drops that tenant's answers at once (`invalidate`), after the change was made; an answer asked for
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
from datetime import datetime
from typing import TYPE_CHECKING, Callable

from libs.clock import SystemClock
from services.interface_layer.app.ttl_cache import TtlCache

if TYPE_CHECKING:
    from services.interface_layer.app.ingest_usage import Target

MAX_ENTRIES_PER_TENANT = 100_000


class TargetCache(TtlCache["Target"]):
    """The mechanism of `ttl_cache.TtlCache`, scoped by tenant: `put(tenant_id, (customer, metric, hint), target,
    generation, valid_until=target.valid_until)`, `invalidate(tenant_id)` after a forwarded change."""

    def __init__(self, ttl_seconds: float, monotonic: Callable[[], float] = time.monotonic,
                 wall: Callable[[], datetime] = SystemClock().now):
        super().__init__(ttl_seconds, MAX_ENTRIES_PER_TENANT, monotonic, wall)
