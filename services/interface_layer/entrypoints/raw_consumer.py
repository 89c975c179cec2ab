"""Consumer of the raw usage topic, which any Kafka client may produce to.

Each message is judged alone: valid events are forwarded like REST ones,
invalid ones are dead-lettered with the reason. Only a failure to publish
raises, so the batch is retried instead of lost.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from pydantic import ValidationError

from libs.platform.bus.port import Message
from services.interface_layer.app.ingest_usage import IngestUsage, UsageIn
from services.interface_layer.entrypoints.schemas import RawUsageIn

GROUP = "cloudbill-edge-raw-usage"


def make_raw_usage_handler(ingest: IngestUsage, loop_getter):
    def handle(messages: list[Message]) -> None:
        loop: asyncio.AbstractEventLoop = loop_getter()
        by_tenant: dict[str, tuple[list[UsageIn], list[bytes]]] = defaultdict(lambda: ([], []))
        for msg in messages:
            try:
                raw = RawUsageIn.model_validate_json(msg.value)
            except ValidationError as exc:
                detail = [{"field": ".".join(str(p) for p in e["loc"]) or "message", "message": e["msg"]} for e in exc.errors()]
                tenant = msg.key or "unknown"
                asyncio.run_coroutine_threadsafe(ingest.dead_letter(tenant, msg.value, "malformed usage message", detail), loop).result()
                continue
            events, originals = by_tenant[raw.tenant_id]
            events.append(UsageIn(raw.event_id, raw.customer, raw.metric, raw.timestamp, raw.properties, raw.subscription))
            originals.append(msg.value)
        for tenant_id, (events, originals) in by_tenant.items():
            asyncio.run_coroutine_threadsafe(ingest.ingest_raw(tenant_id, events, originals), loop).result()

    return handle
