"""What services need from a bus: durable publish, and batched at-least-once consumption.

A handler gets a batch of messages and returns only after their effect is
durable; raising means "not done": the batch is delivered again later, so
handlers dedupe through the inbox. Handlers never raise for bad input: they
dead-letter it, so a poison message cannot block its partition.
"""

from __future__ import annotations

from typing import Awaitable, Callable, NamedTuple, Protocol, Sequence


class Message(NamedTuple):  # a tuple: built at C speed, one per raw usage event on the edge (half a frozen dataclass's cost)
    topic: str
    key: str | None
    value: bytes
    partition: int = 0
    offset: int = 0


Handler = Callable[[list[Message]], None]
# Pipelining: awaited until the batch is handed on (e.g. to the producer), it returns an awaitable that completes when
# the batch's effect is durable, or raises if it will not be. The bus commits offsets only after that completion, in
# order, and meanwhile fetches and hands on the next batches (KafkaBus.subscribe_pipelined).
PipelinedHandler = Callable[[list[Message]], Awaitable[Awaitable[None]]]


class Bus(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, topic: str, key: str | None, value: bytes) -> None:
        """Returns once the message is durable (Kafka: acknowledged by all in-sync replicas)."""

    async def publish_many(self, items: Sequence[tuple[str, str | None, bytes]]) -> None: ...

    async def partition_of(self, topic: str, key: str) -> int:
        """The partition a message keyed `key` goes to (0 where there are no partitions)."""

    async def enqueue(self, items: Sequence[tuple[str, str | None, bytes, int | None]]) -> Awaitable[None]:
        """Hand (topic, key, value, partition or None) over in order; the awaitable completes once all are durable."""

    def subscribe(self, topics: Sequence[str], group: str, handler: Handler, batch_size: int = 500, gather_ms: int = 0) -> None:
        """Register a consumer group before start().

        `gather_ms` > 0 lets a consumer that is not in a hurry (an archive, a log) collect up to that long for larger
        batches, where a bus can (Kafka: the broker holds a fetch until it has a mebibyte or the time is up)."""
