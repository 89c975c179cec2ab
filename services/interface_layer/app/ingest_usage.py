"""Taking in usage: validate, resolve to a subscription, forward to the usage topic.

A REST batch is all or nothing: any invalid event rejects the batch with the
reasons and nothing is forwarded. A raw Kafka message is judged alone: an
invalid one goes to the dead-letter topic with its reason and never blocks
the partition. A REST 2xx is sent only after the bus acknowledged durably.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from libs.clock import Clock
from libs.contracts import encode, encode_trusted, topics
from libs.contracts.events import DeadLettered, UsageAccepted
from libs.platform.bus.port import Bus
from services.interface_layer.domain.usage import UsageProblem, check_event, fingerprint

USAGE_ACCEPTED = UsageAccepted.model_fields["TYPE"].default  # built here field by field from checked values (hot path)


@dataclass(frozen=True)
class UsageIn:
    event_id: str
    customer: str
    metric: str
    timestamp: Any
    properties: dict[str, Any] = field(default_factory=dict)
    subscription: str | None = None


@dataclass(frozen=True)
class Target:
    subscription_id: str | None
    customer_id: str | None
    error_field: str | None = None
    error: str | None = None


class UsageTargets(Protocol):
    async def resolve(self, tenant_id: str, events: list[UsageIn], fingerprints: list[str]) -> list[Target]:
        """For each event, the subscription that bills it, or why there is none (error_field "event_id" for a
        conflicting duplicate: the id was accepted before with another payload)."""


class UsageRejected(Exception):
    def __init__(self, problems: list[UsageProblem]):
        super().__init__(f"{len(problems)} invalid events")
        self.problems = problems


class IngestUsage:
    def __init__(self, bus: Bus, targets: UsageTargets, clock: Clock, future_tolerance_s: int, max_age_days: int):
        self._bus = bus
        self._targets = targets
        self._clock = clock
        self._future = timedelta(seconds=future_tolerance_s)
        self._max_age = timedelta(days=max_age_days)

    async def _judge(self, tenant_id: str, events: list[UsageIn]) -> tuple[dict[int, tuple[str, bytes]], list[UsageProblem]]:
        now = self._clock.now()
        problems: list[UsageProblem] = []
        for i, ev in enumerate(events):
            problems.extend(check_event(i, ev.timestamp, ev.properties, now, self._future, self._max_age))
        prints = [fingerprint(ev.customer, ev.metric, ev.timestamp, ev.properties) for ev in events]
        targets = await self._targets.resolve(tenant_id, events, prints)
        accepted: dict[int, tuple[str, bytes]] = {}
        invalid = {p.index for p in problems}  # never serialised: a value like 10**30 is refused, not encoded
        for i, (ev, target) in enumerate(zip(events, targets)):
            if target.error:
                problems.append(UsageProblem(i, target.error_field or "customer", target.error))
                continue
            if i in invalid:
                continue
            body = {"event_id": ev.event_id, "subscription_id": target.subscription_id, "customer_id": target.customer_id,
                    "metric_code": ev.metric, "timestamp": ev.timestamp, "properties": ev.properties, "payload_hash": prints[i]}
            accepted[i] = (target.subscription_id, encode_trusted(tenant_id, USAGE_ACCEPTED, body, f"usage:{tenant_id}:{ev.event_id}", now))
        return accepted, problems

    async def ingest_batch(self, tenant_id: str, events: list[UsageIn]) -> int:
        accepted, problems = await self._judge(tenant_id, events)
        if problems:
            raise UsageRejected(problems)
        await self._bus.publish_many([(topics.USAGE, key, value) for key, value in accepted.values()])
        return len(accepted)

    async def ingest_raw(self, tenant_id: str, events: list[UsageIn], originals: list[bytes]) -> tuple[int, int]:
        """Raw topic: forward the valid events, dead-letter each invalid one with its reasons."""
        accepted, problems = await self._judge(tenant_id, events)
        bad = {p.index for p in problems}
        forward = [(topics.USAGE, key, value) for i, (key, value) in accepted.items() if i not in bad]
        for i in sorted(bad):
            detail = [{"field": p.field, "message": p.message} for p in problems if p.index == i]
            await self.dead_letter(tenant_id, originals[i], "invalid usage event", detail)
        if forward:
            await self._bus.publish_many(forward)
        return len(forward), len(bad)

    async def dead_letter(self, tenant_id: str, original: bytes, reason: str, detail: list[dict]) -> None:
        body = DeadLettered(source_topic=topics.USAGE_RAW, reason=reason, detail=detail, original=original.decode("utf-8", "replace"))
        await self._bus.publish(topics.USAGE_DEAD_LETTER, tenant_id, encode(tenant_id, body))
