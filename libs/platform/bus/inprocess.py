"""In-process bus for the embedded mode: publish hands the message to every group's handler.

Publishing returns only after every subscribed handler has made its effect
durable, which gives the embedded mode the same guarantee as Kafka with
acks=all: an acknowledged message is never lost. A handler failure fails the
publish, and the outbox relay retries it; inboxes absorb the repeat.
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from typing import Awaitable, Sequence

from libs.platform.bus.port import Handler, Message


class InProcessBus:
    def __init__(self) -> None:
        self._groups: dict[str, list[tuple[str, Handler]]] = defaultdict(list)
        self._offsets: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def subscribe(self, topics: Sequence[str], group: str, handler: Handler, batch_size: int = 500, gather_ms: int = 0) -> None:
        for topic in topics:
            self._groups[topic].append((group, handler))

    async def publish(self, topic: str, key: str | None, value: bytes) -> None:
        await self.publish_many([(topic, key, value)])

    async def publish_many(self, items: Sequence[tuple[str, str | None, bytes]]) -> None:
        await asyncio.to_thread(self.deliver_now, items)

    async def partition_of(self, topic: str, key: str) -> int:
        return 0

    async def enqueue(self, items: Sequence[tuple[str, str | None, bytes, int | None]]) -> Awaitable[None]:
        """Delivered before it returns (like `publish_many`); the awaitable is already complete."""
        await self.publish_many([(topic, key, value) for topic, key, value, _partition in items])
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    def deliver_now(self, items: Sequence[tuple[str, str | None, bytes]]) -> None:
        """Synchronous delivery, batched per topic; used from worker threads too."""
        by_topic: dict[str, list[Message]] = defaultdict(list)
        with self._lock:
            for topic, key, value in items:
                offset = self._offsets[topic]
                self._offsets[topic] = offset + 1
                by_topic[topic].append(Message(topic, key, value, 0, offset))
        for topic, messages in by_topic.items():
            for _group, handler in self._groups.get(topic, []):
                handler(messages)
