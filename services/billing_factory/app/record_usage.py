"""Recording usage exactly once: the consumer side of the usage topic.

One transaction per batch inserts the events with ON CONFLICT DO NOTHING on
(tenant, event id). A repeat with the same fingerprint is a harmless
duplicate; with another fingerprint it is a conflict and is dead-lettered
(through the outbox, in the same transaction). The consumer commits its
offsets only after this transaction, so a crash replays the batch and the
unique key absorbs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable, Iterator, Mapping

import orjson
from sqlalchemy import Engine, select

from libs.contracts import topics
from libs.contracts.events import DeadLettered
from libs.platform.bus.port import Message
from libs.platform.outbox import write_outbox
from services.billing_factory.adapters.tables import outbox, usage_events
from services.billing_factory.adapters.usage_rows import insert_new_usage
from services.billing_factory.app.usage_messages import BATCH_TYPE, UnreadableUsage, UsageMessage, read_usages


@dataclass(frozen=True)
class UsageBatchResult:
    inserted: int
    duplicates: int
    conflicts: int
    malformed: int
    touched: frozenset[tuple[str, str]] = frozenset()  # (tenant, subscription) with usage in this batch
    # (tenant, subscription) -> the events this batch inserted, as rating reads them (`rating.period_events`)
    fresh: Mapping[tuple[str, str], list[dict]] = field(default_factory=dict)


class FreshEvents(Mapping[tuple[str, str], list[dict]]):
    """The events a batch inserted, per (tenant, subscription), as rating reads them; built on first use.

    Only prepaid and budgeted subscriptions are rated after a batch, and most batches touch none: building every
    inserted event's rating dict up front was about a tenth of the recording consumer's CPU."""

    def __init__(self, rows: list[dict], inserted: set[tuple[str, str]]):
        self._rows, self._inserted = rows, inserted
        self._built: dict[tuple[str, str], list[dict]] | None = None

    def _events(self) -> dict[tuple[str, str], list[dict]]:
        if self._built is None:
            self._built = {}
            for r in self._rows:
                if (r["tenant_id"], r["event_id"]) in self._inserted:
                    self._built.setdefault((r["tenant_id"], r["subscription_id"]), []).append(
                        {"event_id": r["event_id"], "metric": r["metric_code"], "timestamp": r["ts"].astimezone(timezone.utc),
                         "properties": r["properties"]})
        return self._built

    def __getitem__(self, key: tuple[str, str]) -> list[dict]:
        return self._events()[key]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._events())

    def __len__(self) -> int:
        return len(self._events())


def record_usage(engine: Engine, messages: list[Message]) -> UsageBatchResult:
    """Messages of either shape (one event, or a UsageAcceptedBatch.v1 of many): each event is judged alone."""
    now = datetime.now(timezone.utc)
    rows, malformed, bad = [], 0, []
    seen: dict[tuple[str, str], str] = {}
    for msg in messages:
        try:
            bodies = read_usages(msg.value)
        except UnreadableUsage as exc:
            malformed += 1
            bad.append((msg.topic, msg.key, msg.value.decode("utf-8", "replace"), str(exc)))
            continue
        for body in bodies:
            key = (body.tenant_id, body.event_id)
            if key in seen:  # the same id twice in one batch: judge against the first
                if seen[key] != body.payload_hash:
                    bad.append((msg.topic, msg.key, _original(msg, body), "conflicting duplicate: same event id, different payload"))
                continue
            seen[key] = body.payload_hash
            rows.append({
                "tenant_id": body.tenant_id, "event_id": body.event_id, "subscription_id": body.subscription_id,
                "metric_code": body.metric_code, "ts": body.timestamp, "properties": body.properties,
                "payload_hash": body.payload_hash, "received_at": now, "billed_run_id": None,
            })
    with engine.begin() as conn:
        inserted = insert_new_usage(conn, rows)
        repeats = [r for r in rows if (r["tenant_id"], r["event_id"]) not in inserted]
        conflicts = 0
        if repeats:
            stored: dict[tuple[str, str], str] = {}
            by_tenant: dict[str, list[str]] = {}
            for r in repeats:
                by_tenant.setdefault(r["tenant_id"], []).append(r["event_id"])
            for tenant_id, event_ids in by_tenant.items():
                found = conn.execute(select(usage_events.c.event_id, usage_events.c.payload_hash)
                                     .where(usage_events.c.tenant_id == tenant_id, usage_events.c.event_id.in_(event_ids)))
                stored.update({(tenant_id, e): h for e, h in found})
            for r in repeats:
                if stored.get((r["tenant_id"], r["event_id"])) != r["payload_hash"]:
                    conflicts += 1
                    reason = f"conflicting duplicate: event {r['event_id']} was accepted earlier with a different payload"
                    write_outbox(conn, outbox, r["tenant_id"], topics.USAGE_DEAD_LETTER, r["tenant_id"],
                                 DeadLettered(source_topic=topics.USAGE, reason=reason, original=r["event_id"]))
        for topic, key, original, reason in bad:
            write_outbox(conn, outbox, "unknown", topics.USAGE_DEAD_LETTER, key or "unknown",
                         DeadLettered(source_topic=topic, reason=reason, original=original))
    # a redelivered batch touches its subscriptions again, so a charge its first delivery did not finish is made now
    touched = frozenset((r["tenant_id"], r["subscription_id"]) for r in rows)
    return UsageBatchResult(len(inserted), len(repeats) - conflicts, conflicts + len(bad) - malformed, malformed, touched,
                            FreshEvents(rows, inserted))


def _original(msg: Message, body: UsageMessage) -> str:
    """What a dead letter shows of one event: the message itself, or for a batch message only that event."""
    if orjson.loads(msg.value).get("type") != BATCH_TYPE:
        return msg.value.decode("utf-8", "replace")
    return orjson.dumps(body._asdict()).decode()


def fresh_of(fresh: Mapping[tuple[str, str], list[dict]] | None, tenant_id: str, sub_id: str) -> list[dict] | None:
    """The events a batch inserted for one subscription (`UsageBatchResult.fresh`), or None where the caller gave no
    batch's rows (then the open period is read whole; see `runs.preview_subscription`)."""
    return None if fresh is None else fresh.get((tenant_id, sub_id), [])


def by_tenant(touched: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """(tenant, subscription) pairs of a batch, grouped per tenant for the checks that follow recording."""
    grouped: dict[str, set[str]] = {}
    for tenant_id, sub_id in touched:
        grouped.setdefault(tenant_id, set()).add(sub_id)
    return grouped
