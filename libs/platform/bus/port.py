"""What services need from a bus: durable publish, and batched at-least-once consumption.

A handler gets a batch of messages and returns only after their effect is
durable; raising means "not done": the batch is delivered again later, so
handlers dedupe through the inbox. Handlers never raise for bad input: they
dead-letter it, so a poison message cannot block its partition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol, Sequence


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    key: str | None
    value: bytes
    partition: int = 0
    offset: int = 0


Handler = Callable[[list[Message]], None]


class Bus(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, topic: str, key: str | None, value: bytes) -> None:
        """Returns once the message is durable (Kafka: acknowledged by all in-sync replicas)."""

    async def publish_many(self, items: Sequence[tuple[str, str | None, bytes]]) -> None: ...

    def subscribe(self, topics: Sequence[str], group: str, handler: Handler, batch_size: int = 500) -> None:
        """Register a consumer group before start()."""
