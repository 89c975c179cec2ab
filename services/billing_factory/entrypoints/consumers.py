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
from services.billing_factory.app.rerating import USAGE_LOG_BUCKETS, pack_bucket_events
from services.billing_factory.app.usage_messages import UnreadableUsage, read_usage_bodies
from services.billing_factory.app.record_usage import record_usage

log = logging.getLogger(__name__)


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


def make_usage_log_handler(docstore: DocumentStore):
    """Its own consumer group writes the raw event log for audit and re-rating, off the hot path.

    One document per subscription and delivered batch holds that subscription's events in offset order (the
    bucket pattern for time series): a document per event cost the document store more than everything else
    the billing factory does per event. The events are one deflated JSON array (`events_z`, see
    `rerating.pack_bucket_events`; releases before wrote the same array as plain text in `events_json`, and earlier
    ones nested documents in `events`): the document store's CPU grew with every nested value (about 40
    microseconds an event in FerretDB and PostgreSQL), then with every byte of the text (about 6 in buckets of 100),
    and deflated it is about 2.5. A bucket is keyed by its first and last
    event id, so a redelivered batch writes nothing new, while a redelivery cut at other boundaries (say with
    more events after a crash before the offset commit) writes a new bucket: an event may then be logged twice,
    never lost, and readers take each event id once (`rerating.logged_events`, which reads both bucket shapes).
    """
    docstore.ensure_unique_index(USAGE_LOG_BUCKETS, ["tenant_id", "subscription_id", "first_event_id", "last_event_id"])

    def handle(messages: list[Message]) -> None:
        buckets: dict[tuple[str, str], dict] = {}
        logged_at = datetime.now(timezone.utc).isoformat()
        for msg in messages:
            try:  # one event, or a UsageAcceptedBatch.v1 of many (all at this offset), as sent
                tenant_id, bodies = read_usage_bodies(msg.value)
            except UnreadableUsage:  # malformed messages are dead-lettered by the hot path; the log skips them
                continue
            for body in bodies:
                sub_id = body.pop("subscription_id")  # the bucket names it
                bucket = buckets.get((tenant_id, sub_id))
                if bucket is None:
                    bucket = buckets[(tenant_id, sub_id)] = {
                        "tenant_id": tenant_id, "subscription_id": sub_id, "first_event_id": body["event_id"],
                        "partition": msg.partition, "logged_at": logged_at, "events": []}
                body["offset"] = msg.offset
                bucket["events"].append(body)
        for bucket in buckets.values():
            events = bucket.pop("events")
            bucket["last_event_id"] = events[-1]["event_id"]
            bucket["event_count"] = len(events)
            bucket["events_z"] = pack_bucket_events(events)
        docstore.insert_many_ignoring_duplicates(USAGE_LOG_BUCKETS, list(buckets.values()))

    return handle


def make_wallet_handler(container):
    """What prepaid wallets actually paid, so the period's invoice shows it as already paid."""
    def handle(messages: list[Message]) -> None:
        for env, body in decode_batch(messages):
            if isinstance(body, UsagePaid):
                record_usage_paid(container.engine, env.id, env.tenant_id, body)

    return handle
