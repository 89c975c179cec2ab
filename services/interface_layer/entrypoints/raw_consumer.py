"""Consumer of the raw usage topic, which any Kafka client may produce to.

Each message is judged alone: valid events are forwarded like REST ones,
invalid ones are dead-lettered with the reason. Only a failure to publish
raises, so the batch is retried instead of lost.

On Kafka the consumer is pipelined (`KafkaBus.subscribe_pipelined`): a batch is read (in a thread), resolved and
handed to the producer, and while the broker acknowledges it the next batch is prepared; offsets are committed
only after the acknowledgement. Messages are read with `RawUsageIn`'s rules straight from the bytes into dicts: the
common shape by msgspec (`raw_usage_fast.read_common`), anything else by `RAW_USAGE_ROW` (pydantic's core; about a
third of the model's cost), whose errors become the dead letter's detail.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Awaitable, Callable

from pydantic import ValidationError

from libs.platform.bus.port import Message
from services.interface_layer.app.ingest_usage import IngestUsage, UsageIn
from services.interface_layer.entrypoints.raw_usage_fast import read_common
from services.interface_layer.entrypoints.schemas import RAW_USAGE_ROW

GROUP = "cloudbill-edge-raw-usage"
BATCH = 10_000  # raw messages per fetch and partition; bounded by the bus's fetch size too


def read_batch(messages: list[Message]):
    """Per tenant its events and original messages, and (tenant, original, reason, detail) for the unreadable."""
    by_tenant: dict[str, tuple[list[UsageIn], list[bytes]]] = defaultdict(lambda: ([], []))
    malformed: list[tuple[str, bytes, str, list[dict]]] = []
    for msg in messages:
        read = read_common(msg.value)
        if read is None:
            try:
                raw = RAW_USAGE_ROW.validate_json(msg.value)
            except ValidationError as exc:
                detail = [{"field": ".".join(str(p) for p in e["loc"]) or "message", "message": e["msg"]} for e in exc.errors()]
                malformed.append((msg.key or "unknown", msg.value, "malformed usage message", detail))
                continue
            read = raw["tenant_id"], UsageIn.of_row(raw)
        events, originals = by_tenant[read[0]]
        events.append(read[1])
        originals.append(msg.value)
    return by_tenant, malformed


class RawUsageHandler:
    def __init__(self, ingest: IngestUsage, loop_getter: Callable[[], asyncio.AbstractEventLoop]):
        self._ingest = ingest
        self._loop_getter = loop_getter

    async def pipelined(self, messages: list[Message]) -> Awaitable[None]:
        """Hand the batch on; the returned awaitable completes when every forward and dead letter is durable."""
        by_tenant, malformed = await asyncio.to_thread(read_batch, messages)
        pending = [await self._ingest.dead_letters(malformed)] if malformed else []
        for tenant_id, (events, originals) in by_tenant.items():
            durable, _counts = await self._ingest.forward_raw(tenant_id, events, originals)
            pending.append(durable)
        return asyncio.gather(*pending)

    def __call__(self, messages: list[Message]) -> None:
        """The blocking handler for buses without pipelining (the in-process bus): returns once all is durable."""
        async def whole() -> None:
            await (await self.pipelined(messages))

        asyncio.run_coroutine_threadsafe(whole(), self._loop_getter()).result()


def make_raw_usage_handler(ingest: IngestUsage, loop_getter) -> RawUsageHandler:
    return RawUsageHandler(ingest, loop_getter)
