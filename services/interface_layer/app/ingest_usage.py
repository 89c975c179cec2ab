"""Taking in usage: validate, resolve to a subscription, forward to the usage topic.

A REST batch is all or nothing: any invalid event rejects the batch with the
reasons and nothing is forwarded. A raw Kafka message is judged alone: an
invalid one goes to the dead-letter topic with its reason and never blocks
the partition. A REST 2xx is sent only after the bus acknowledged durably.

Accepted events travel as UsageAcceptedBatch.v1 messages, many events per message on the partition keying by
subscription would choose (`libs/contracts/usage_batch.py`), built from checked values without a pydantic round.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Awaitable, NamedTuple, Protocol

from libs.clock import Clock
from libs.contracts import encode, topics
from libs.contracts.events import DeadLettered
from libs.contracts.usage_batch import pack
from libs.platform.bus.port import Bus
from services.interface_layer.app.target_cache import TargetCache
from services.interface_layer.domain.usage import UsageProblem, check_event, fingerprint


class UsageIn(NamedTuple):  # a tuple: built at C speed, a thousand per REST batch
    event_id: str
    customer: str
    metric: str
    timestamp: Any
    properties: dict[str, Any]
    subscription: str | None = None

    @classmethod
    def of_row(cls, row: dict[str, Any]) -> "UsageIn":
        """From a validated event dict (entrypoints.schemas USAGE_BATCH_ROWS, RAW_USAGE_ROW)."""
        return cls(row["event_id"], row["customer"], row["metric"], row["timestamp"], row.get("properties", {}), row.get("subscription"))


@dataclass(frozen=True)
class Target:
    subscription_id: str | None
    customer_id: str | None
    error_field: str | None = None
    error: str | None = None
    valid_until: datetime | None = None  # the subscription ends then: an answer remembered longer would be wrong


class UsageTargets(Protocol):
    async def resolve(self, tenant_id: str, events: list[UsageIn], fingerprints: list[str]) -> list[Target]:
        """For each event, the subscription that bills it, or why there is none (error_field "event_id" for a
        conflicting duplicate: the id was accepted before with another payload)."""

    async def resolve_items(self, tenant_id: str, items: list[tuple[str, str, str | None]]) -> list[Target]:
        """For each distinct (customer, metric, subscription hint) the subscription that bills it, without the
        duplicate check."""


class UsageRejected(Exception):
    def __init__(self, problems: list[UsageProblem]):
        super().__init__(f"{len(problems)} invalid events")
        self.problems = problems


class IngestUsage:
    def __init__(self, bus: Bus, targets: UsageTargets, clock: Clock, future_tolerance_s: int, max_age_days: int,
                 cache: TargetCache | None = None):
        self._bus = bus
        self._targets = targets
        self._clock = clock
        self._future = timedelta(seconds=future_tolerance_s)
        self._max_age = timedelta(days=max_age_days)
        self._cache = cache or TargetCache(0)

    def _check(self, events: list[UsageIn], now: datetime) -> tuple[list[UsageProblem], list[str]]:
        problems: list[UsageProblem] = []
        for i, ev in enumerate(events):
            problems.extend(check_event(i, ev.timestamp, ev.properties, now, self._future, self._max_age))
        return problems, [fingerprint(ev.customer, ev.metric, ev.timestamp, ev.properties) for ev in events]

    @staticmethod
    def _accept(events: list[UsageIn], targets: list[Target], prints: list[str],
                problems: list[UsageProblem]) -> dict[int, tuple[str, dict[str, Any]]]:
        """Index -> (subscription, UsageAccepted.v1 body) of each event without a problem; adds the resolution problems."""
        accepted: dict[int, tuple[str, dict[str, Any]]] = {}
        invalid = {p.index for p in problems}  # never serialised: a value like 10**30 is refused, not encoded
        for i, (ev, target) in enumerate(zip(events, targets)):
            if target.error:
                problems.append(UsageProblem(i, target.error_field or "customer", target.error))
                continue
            if i in invalid:
                continue
            accepted[i] = (target.subscription_id, {
                "event_id": ev.event_id, "subscription_id": target.subscription_id, "customer_id": target.customer_id,
                "metric_code": ev.metric, "timestamp": ev.timestamp, "properties": ev.properties, "payload_hash": prints[i]})
        return accepted

    async def _messages(self, tenant_id: str, accepted: list[tuple[str, dict[str, Any]]], now: datetime) -> list[tuple[str, None, bytes, int]]:
        """UsageAcceptedBatch.v1 messages, each on the partition of all its events' subscriptions (usage_batch.py)."""
        partitions: dict[str, int] = {}
        for sub_id, _body in accepted:
            if sub_id not in partitions:
                partitions[sub_id] = await self._bus.partition_of(topics.USAGE, sub_id)
        placed = [(partitions[sub_id], body) for sub_id, body in accepted]
        packs = await asyncio.to_thread(pack, tenant_id, placed, now)
        return [(topics.USAGE, None, message, partition) for partition, message in packs]

    async def _judge(self, tenant_id: str, events: list[UsageIn]) -> tuple[dict[int, tuple[str, dict[str, Any]]], list[UsageProblem], datetime]:
        now = self._clock.now()
        problems, prints = self._check(events, now)
        targets = await self._targets.resolve(tenant_id, events, prints)
        return self._accept(events, targets, prints, problems), problems, now

    async def ingest_batch(self, tenant_id: str, events: list[UsageIn]) -> int:
        accepted, problems, now = await self._judge(tenant_id, events)
        if problems:
            raise UsageRejected(problems)
        await (await self._bus.enqueue(await self._messages(tenant_id, list(accepted.values()), now)))
        return len(accepted)

    async def ingest_raw(self, tenant_id: str, events: list[UsageIn], originals: list[bytes]) -> tuple[int, int]:
        """Raw topic: forward the valid events, dead-letter each invalid one with its reasons."""
        durable, counts = await self.forward_raw(tenant_id, events, originals)
        await durable
        return counts

    async def forward_raw(self, tenant_id: str, events: list[UsageIn], originals: list[bytes]) -> tuple[Awaitable[None], tuple[int, int]]:
        """Hand the raw events on (valid ones forwarded, invalid ones dead-lettered) and return an awaitable of their
        durability with (forwarded, dead-lettered): the raw consumer prepares its next batch meanwhile.

        Subscriptions come from the edge's short-lived cache (`target_cache.py`); the conflicting-duplicate check
        is left to the recording consumer, which dead-letters a changed payload under a reused id.
        """
        now = self._clock.now()
        problems, prints = await asyncio.to_thread(self._check, events, now)
        targets = await self._resolve_cached(tenant_id, events)
        accepted = self._accept(events, targets, prints, problems)
        bad = {p.index for p in problems}
        letters = []
        for i in sorted(bad):
            detail = [{"field": p.field, "message": p.message} for p in problems if p.index == i]
            letters.append(self._dead_letter_message(tenant_id, originals[i], "invalid usage event", detail))
        forward = [accepted[i] for i in accepted if i not in bad]
        durable = await self._bus.enqueue(await self._messages(tenant_id, forward, now) + letters)
        return durable, (len(forward), len(bad))

    async def _resolve_cached(self, tenant_id: str, events: list[UsageIn]) -> list[Target]:
        known: dict[tuple[str, str, str | None], Target] = {}
        missing = []
        for key in dict.fromkeys((e.customer, e.metric, e.subscription) for e in events):
            found = self._cache.get(tenant_id, key)
            if found is None:
                missing.append(key)
            else:
                known[key] = found
        if missing:
            generation = self._cache.generation(tenant_id)
            for key, target in zip(missing, await self._targets.resolve_items(tenant_id, missing)):
                known[key] = target
                if target.error is None:
                    self._cache.put(tenant_id, key, target, generation, valid_until=target.valid_until)
        return [known[(e.customer, e.metric, e.subscription)] for e in events]

    def forget_targets(self, tenant_id: str) -> None:
        """The tenant's billing data changed through this edge: resolve its usage afresh (see `target_cache.py`)."""
        self._cache.invalidate(tenant_id)

    async def dead_letters(self, letters: list[tuple[str, bytes, str, list[dict]]]) -> Awaitable[None]:
        """Hand (tenant, original, reason, detail) dead letters on; the awaitable completes once they are durable."""
        return await self._bus.enqueue([self._dead_letter_message(*letter) for letter in letters])

    async def dead_letter(self, tenant_id: str, original: bytes, reason: str, detail: list[dict]) -> None:
        await (await self.dead_letters([(tenant_id, original, reason, detail)]))

    @staticmethod
    def _dead_letter_message(tenant_id: str, original: bytes, reason: str, detail: list[dict]) -> tuple[str, str, bytes, None]:
        body = DeadLettered(source_topic=topics.USAGE_RAW, reason=reason, detail=detail, original=original.decode("utf-8", "replace"))
        return (topics.USAGE_DEAD_LETTER, tenant_id, encode(tenant_id, body), None)
