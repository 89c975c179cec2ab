"""Bus consumers of the billing factory: the usage topic (hot path) and the raw usage log."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import orjson

from libs.contracts import decode_batch
from libs.contracts.events import UsagePaid
from libs.platform.bus.port import Message
from libs.platform.docstore import DocumentStore
from libs.platform.faults import crash_point
from services.billing_factory.app.budgets import check_budgets
from services.billing_factory.app.prepaid import charge_usage
from services.billing_factory.app.prepaid_periods import record_usage_paid
from services.billing_factory.app.rerating import USAGE_LOG_BATCHES, pack_logged_messages
from services.billing_factory.app.usage_messages import LoggedMessage, UnreadableUsage, read_for_log
from services.billing_factory.app.record_usage import record_usage

log = logging.getLogger(__name__)
LOG_BATCH_EVENTS = 20_000  # events per raw log document at most; a handler call holds one fetch (4 MiB) per partition, so a document stays far below the 16 MB one may hold


def make_usage_handler(container):
    def handle(messages: list[Message]) -> None:
        result = record_usage(container.engine, messages)
        log.info("usage batch recorded: inserted=%d duplicates=%d conflicts=%d malformed=%d",
                 result.inserted, result.duplicates, result.conflicts, result.malformed)
        crash_point(container.settings.crash_at, "usage-after-db-commit")  # offsets not yet committed
        if result.touched:
            charge_usage(container.engine, result.touched, container.clock.now(), result.fresh)  # prepaid wallets pay as usage arrives
            check_budgets(container.engine, result.touched, container.clock.now(), result.fresh)  # postpaid budgets warn
        container.relay.wake()

    return handle


def make_usage_log_handler(docstore: DocumentStore, max_events: int = LOG_BATCH_EVENTS):
    """Its own consumer group writes the raw event log for audit and re-rating, off the hot path.

    One document per tenant, partition and delivered batch (up to `max_events` events, whole messages) holds the
    messages in offset order, each as its offset and the events it carried in their wire form, and names the
    subscriptions among them (`subscription_ids`, which readers filter on). Each document costs the document store
    far more than a byte of it: FerretDB spent 3.05 us an event in documents of 38 events and 1.25 in documents of
    380 or 3,800, so the documents per subscription and batch of earlier releases (`usage_log_buckets`) cost more the
    more meters a tenant has, down to a document per event. The messages are compressed together (`messages_zst`,
    see `rerating.pack_logged_messages`). A document is keyed by its partition and first and last event id, so a
    redelivered batch writes nothing new, while a redelivery cut at other boundaries (say with more events after a
    crash before the offset commit) writes a new document: an event may then be logged twice, never lost, and
    readers take each event id once (`rerating.logged_events`, which reads the older shapes too).
    """
    docstore.ensure_unique_index(USAGE_LOG_BATCHES, ["tenant_id", "partition", "first_event_id", "last_event_id"])

    def handle(messages: list[Message]) -> None:
        groups: dict[tuple[str, int], list[tuple[int, LoggedMessage]]] = {}
        for msg in messages:
            try:  # one event, or a UsageAcceptedBatch.v1 of many (all at this offset), as sent
                logged = read_for_log(msg.value)
            except UnreadableUsage:  # malformed messages are dead-lettered by the hot path; the log skips them
                continue
            if logged.event_ids:  # a batch of no events has nothing to log
                groups.setdefault((logged.tenant_id, msg.partition), []).append((msg.offset, logged))
        logged_at = datetime.now(timezone.utc).isoformat()
        documents = [_log_document(tenant_id, partition, chunk, logged_at)
                     for (tenant_id, partition), entries in groups.items() for chunk in _chunks(entries, max_events)]
        docstore.insert_many_ignoring_duplicates(USAGE_LOG_BATCHES, documents)

    return handle


def _chunks(entries: list[tuple[int, LoggedMessage]], max_events: int):
    """Whole messages in order, cut where the next would take a chunk beyond `max_events` events."""
    chunk: list[tuple[int, LoggedMessage]] = []
    count = 0
    for offset, logged in entries:
        if chunk and count + len(logged.event_ids) > max_events:
            yield chunk
            chunk, count = [], 0
        chunk.append((offset, logged))
        count += len(logged.event_ids)
    if chunk:
        yield chunk


def _log_document(tenant_id: str, partition: int, chunk: list[tuple[int, LoggedMessage]], logged_at: str) -> dict:
    return {"tenant_id": tenant_id, "partition": partition, "first_event_id": chunk[0][1].event_ids[0],
            "last_event_id": chunk[-1][1].event_ids[-1], "first_offset": chunk[0][0], "last_offset": chunk[-1][0],
            "event_count": sum(len(logged.event_ids) for _, logged in chunk), "logged_at": logged_at,
            "subscription_ids": sorted(set().union(*(logged.subscription_ids for _, logged in chunk))),
            "messages_zst": pack_logged_messages([(offset, logged.events_json) for offset, logged in chunk])}


def make_wallet_handler(container):
    """What prepaid wallets actually paid, so the period's invoice shows it as already paid."""
    def handle(messages: list[Message]) -> None:
        for env, body in decode_batch(messages):
            if isinstance(body, UsagePaid):
                record_usage_paid(container.engine, env.id, env.tenant_id, body)

    return handle
