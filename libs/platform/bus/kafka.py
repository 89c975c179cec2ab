"""Kafka bus over aiokafka: idempotent producer with acks=all, manual offset commits.

Offsets are committed only after the handler returned, i.e. after the
effect is durable. A failing batch is sought back and retried with backoff.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.errors import CommitFailedError, IllegalStateError, TopicAlreadyExistsError

from libs.platform.bus.port import Handler, Message

log = logging.getLogger(__name__)


class _AssignmentLog(ConsumerRebalanceListener):
    """Logs which partitions this process owns, so an operator scaling consumers sees the hand-over."""

    def __init__(self, group: str) -> None:
        self._group = group

    @staticmethod
    def _names(partitions) -> str:
        return ",".join(sorted(f"{tp.topic}[{tp.partition}]" for tp in partitions))

    async def on_partitions_revoked(self, revoked) -> None:
        log.info("partitions revoked group=%s partitions=%s", self._group, self._names(revoked))

    async def on_partitions_assigned(self, assigned) -> None:
        log.info("partitions assigned group=%s partitions=%s", self._group, self._names(assigned))


class KafkaBus:
    def __init__(self, bootstrap: str, client_id: str = "cloudbill", partitions: int = 4, topics: Sequence[str] = (), topic_prefix: str = ""):
        self._prefix = topic_prefix  # isolates environments (and test runs) sharing one cluster
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._partitions = partitions
        self._partition_cache: dict[str, dict[str, int]] = {}
        self._topics = list(topics)
        self._producer: AIOKafkaProducer | None = None
        self._subscriptions: list[tuple[list[str], str, Handler, int]] = []
        self._tasks: list[asyncio.Task] = []
        self._consumers: list[AIOKafkaConsumer] = []
        self._stopping = asyncio.Event()

    def physical(self, topic: str) -> str:
        return self._prefix + topic

    def subscribe(self, topics: Sequence[str], group: str, handler: Handler, batch_size: int = 500) -> None:
        self._subscriptions.append(([self.physical(t) for t in topics], group, handler, batch_size))

    async def start(self) -> None:
        await self.ensure_topics([self.physical(t) for t in self._topics] + [t for s in self._subscriptions for t in s[0]])
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id=self._client_id,
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            max_batch_size=256 * 1024,
        )
        await self._producer.start()
        for topics, group, handler, batch_size in self._subscriptions:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self._bootstrap,
                group_id=group,
                client_id=f"{self._client_id}-{group}",
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                max_poll_records=batch_size,
                session_timeout_ms=10_000,
                heartbeat_interval_ms=1_000,
            )
            consumer.subscribe(topics=topics, listener=_AssignmentLog(group))
            await consumer.start()
            self._consumers.append(consumer)
            self._tasks.append(asyncio.create_task(self._consume(consumer, handler, batch_size), name=f"consume-{group}"))

    async def ensure_topics(self, topics: Sequence[str]) -> None:
        wanted = sorted(set(topics))
        if not wanted:
            return
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap, client_id=f"{self._client_id}-admin")
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            new = [NewTopic(t, self._partitions, 1) for t in wanted if t not in existing]
            if new:
                try:
                    await admin.create_topics(new)
                except TopicAlreadyExistsError:
                    pass
        finally:
            await admin.close()

    async def stop(self) -> None:
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for consumer in self._consumers:
            await consumer.stop()
        if self._producer:
            await self._producer.stop()

    async def publish(self, topic: str, key: str | None, value: bytes) -> None:
        assert self._producer, "bus not started"
        await self._producer.send_and_wait(self.physical(topic), value, key=key.encode() if key else None)

    async def publish_many(self, items: Sequence[tuple[str, str | None, bytes]]) -> None:
        """Publish many messages and return once the broker acknowledged all of them (acks=all).

        Keyed messages are appended to record batches per partition here rather than sent one by one: the
        per-message `send()` path costs about 25 microseconds of Python each, a batch append a fraction of
        that. Partitions are chosen by the same murmur2 partitioner `send()` uses, so a key always lands
        where a single `publish` of it would, and order per key is kept.
        """
        assert self._producer, "bus not started"
        if len(items) < 32 or any(k is None for _, k, _ in items):
            futures = [await self._producer.send(self.physical(t), v, key=k.encode() if k else None) for t, k, v in items]
            await asyncio.gather(*futures)
            return
        batches: dict[tuple[str, int], object] = {}
        futures = []
        for topic, key, value in items:
            physical = self.physical(topic)
            partition = await self._partition_of(physical, key)
            batch = batches.get((physical, partition))
            if batch is None:
                batch = batches[(physical, partition)] = self._producer.create_batch()
            if batch.append(key=key.encode(), value=value, timestamp=None) is None:  # full: send it, start the next
                futures.append(await self._producer.send_batch(batch, physical, partition=partition))
                batch = batches[(physical, partition)] = self._producer.create_batch()
                if batch.append(key=key.encode(), value=value, timestamp=None) is None:
                    raise ValueError(f"a message of {len(value)} bytes does not fit a record batch")
        for (physical, partition), batch in batches.items():
            futures.append(await self._producer.send_batch(batch, physical, partition=partition))
        await asyncio.gather(*futures)

    async def _partition_of(self, physical_topic: str, key: str) -> int:
        cache = self._partition_cache.setdefault(physical_topic, {})
        found = cache.get(key)
        if found is None:
            partitions = sorted(await self._producer.partitions_for(physical_topic))
            if len(cache) > 100_000:
                cache.clear()
            found = cache[key] = DefaultPartitioner()(key.encode(), partitions, partitions)
        return found

    async def _consume(self, consumer: AIOKafkaConsumer, handler: Handler, batch_size: int) -> None:
        backoff = 0.2
        while not self._stopping.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=batch_size)
            for tp, records in batches.items():
                messages = [
                    Message(r.topic[len(self._prefix):], r.key.decode() if r.key else None, r.value, r.partition, r.offset) for r in records
                ]
                try:
                    await asyncio.to_thread(handler, messages)
                except Exception:
                    log.exception("handler failed on %s; retrying from offset %s", tp, records[0].offset)
                    consumer.seek(tp, records[0].offset)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                backoff = 0.2
                try:
                    await consumer.commit({TopicPartition(tp.topic, tp.partition): records[-1].offset + 1})
                except (CommitFailedError, IllegalStateError) as exc:
                    # The partition moved to another consumer of the group while this batch ran; the new
                    # owner gets the batch again and the inbox makes the repeat harmless.
                    log.warning("offset commit for %s lost to a rebalance (%s); the batch will be redelivered", tp, exc)
