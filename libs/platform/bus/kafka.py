"""Kafka bus over aiokafka: idempotent producer with acks=all, manual offset commits.

Offsets are committed only after the handler returned, i.e. after the
effect is durable. A failing batch is sought back and retried with backoff.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Awaitable, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.errors import CommitFailedError, IllegalStateError, TopicAlreadyExistsError

from libs.platform.bus.port import Handler, Message, PipelinedHandler

log = logging.getLogger(__name__)
# One fetch of one partition is one handler call at most: 4 MiB is about 15,000 usage events (aiokafka's default,
# 1 MiB, cut batches to a quarter of that and multiplied the per-batch round trips)
FETCH_BYTES_PER_PARTITION = 4 * 1024 * 1024
GATHER_BYTES = 1024 * 1024  # what a gathering consumer (`subscribe(gather_ms=...)`) waits for, at most gather_ms long
STOP_GRACE_SECONDS = 10.0


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
        self._subscriptions: list[tuple[list[str], str, Handler | PipelinedHandler, int, int, int]] = []
        self._tasks: list[asyncio.Task] = []
        self._consumers: list[AIOKafkaConsumer] = []
        self._stopping = asyncio.Event()

    def physical(self, topic: str) -> str:
        return self._prefix + topic

    def subscribe(self, topics: Sequence[str], group: str, handler: Handler, batch_size: int = 500, gather_ms: int = 0) -> None:
        self._subscriptions.append(([self.physical(t) for t in topics], group, handler, batch_size, 0, gather_ms))

    def subscribe_pipelined(self, topics: Sequence[str], group: str, handler: PipelinedHandler, batch_size: int = 500, depth: int = 3) -> None:
        """Like `subscribe`, for a handler that hands each batch on and returns an awaitable of its durable effect
        (see `PipelinedHandler`): up to `depth` batches are in flight at once; offsets still follow durability."""
        self._subscriptions.append(([self.physical(t) for t in topics], group, handler, batch_size, depth, 0))

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
        for topics, group, handler, batch_size, depth, gather_ms in self._subscriptions:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self._bootstrap,
                group_id=group,
                client_id=f"{self._client_id}-{group}",
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                max_poll_records=batch_size,
                max_partition_fetch_bytes=FETCH_BYTES_PER_PARTITION,
                **({"fetch_min_bytes": GATHER_BYTES, "fetch_max_wait_ms": gather_ms} if gather_ms else {}),
                session_timeout_ms=10_000,
                heartbeat_interval_ms=1_000,
            )
            consumer.subscribe(topics=topics, listener=_AssignmentLog(group))
            await consumer.start()
            self._consumers.append(consumer)
            self._tasks.append(asyncio.create_task(self._consume(consumer, handler, batch_size, depth), name=f"consume-{group}"))

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
        if self._tasks:  # let each consumer finish its fetch and commit what is durable; then stop what still runs
            await asyncio.wait(self._tasks, timeout=STOP_GRACE_SECONDS)
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

    async def partition_of(self, topic: str, key: str) -> int:
        """The partition the keyed producer sends `key` to on `topic` (murmur2 over all partitions, as `send()`)."""
        assert self._producer, "bus not started"
        return await self._partition_of(self.physical(topic), key)

    async def enqueue(self, items: Sequence[tuple[str, str | None, bytes, int | None]]) -> Awaitable[None]:
        """Hand messages to the producer in this order and return an awaitable that completes once the broker
        acknowledged all of them (acks=all); it raises if any was not.

        Each item is (topic, key, value, partition): an explicit partition places the message there (batch messages
        of the usage topic), None places it by its key like `publish`. Returning before the acknowledgement lets a
        pipelined consumer prepare its next batch while this one travels; what is appended to one partition here
        is written there in this order (idempotent producer), also across calls.
        """
        assert self._producer, "bus not started"
        batches: dict[tuple[str, int], object] = {}
        futures = []
        for topic, key, value, partition in items:
            physical = self.physical(topic)
            if partition is None:
                if key is None:
                    futures.append(await self._producer.send(physical, value))
                    continue
                partition = await self._partition_of(physical, key)
            raw_key = key.encode() if key else None
            batch = batches.get((physical, partition))
            if batch is None:
                batch = batches[(physical, partition)] = self._producer.create_batch()
            if batch.append(key=raw_key, value=value, timestamp=None) is None:  # full: send it, start the next
                futures.append(await self._producer.send_batch(batch, physical, partition=partition))
                batch = batches[(physical, partition)] = self._producer.create_batch()
                if batch.append(key=raw_key, value=value, timestamp=None) is None:
                    raise ValueError(f"a message of {len(value)} bytes does not fit a record batch")
        for (physical, partition), batch in batches.items():
            futures.append(await self._producer.send_batch(batch, physical, partition=partition))
        return asyncio.gather(*futures)

    async def _partition_of(self, physical_topic: str, key: str) -> int:
        cache = self._partition_cache.setdefault(physical_topic, {})
        found = cache.get(key)
        if found is None:
            partitions = sorted(await self._producer.partitions_for(physical_topic))
            if len(cache) > 100_000:
                cache.clear()
            found = cache[key] = DefaultPartitioner()(key.encode(), partitions, partitions)
        return found

    async def _consume(self, consumer: AIOKafkaConsumer, handler: Handler | PipelinedHandler, batch_size: int, depth: int) -> None:
        """Hand each partition's fetched records to the handler, commit what is durable (see `_Pipeline`), while
        `_fetch_ahead` takes the next records from aiokafka."""
        pipeline = _Pipeline(consumer, self._prefix, handler, depth)
        ahead: asyncio.Queue = asyncio.Queue(maxsize=1)
        fetching = asyncio.create_task(self._fetch_ahead(consumer, pipeline, batch_size, ahead))
        getting: asyncio.Future | None = None
        try:
            while True:
                getting = asyncio.ensure_future(ahead.get())
                await asyncio.wait({getting, fetching}, return_when=asyncio.FIRST_COMPLETED)
                if not getting.done():  # the fetching stopped, or failed: raise what failed it, as the inline fetch did
                    getting.cancel()
                    fetching.result()
                    break
                if self._stopping.is_set():  # fetched but not handled: not committed, so delivered again
                    break
                await pipeline.feed(*getting.result())
        finally:
            fetching.cancel()
            if getting is not None:
                getting.cancel()
            await pipeline.close()

    async def _fetch_ahead(self, consumer: AIOKafkaConsumer, pipeline: "_Pipeline", batch_size: int, ahead: asyncio.Queue) -> None:
        """Take fetched records from aiokafka as soon as they arrive, one fetch ahead of the handler.

        aiokafka asks the broker for a partition's next records only once the records it holds of that partition
        are all taken. Taken only when the handler was done, the next fetch's round trip was added to every batch:
        the edge's raw consumer, draining a backlog on one partition, waited about half of its time in getmany
        (measured: 1.5 s of every 3 s, 0.15 s of it CPU). Each fetch is tagged with the partitions' generations
        (`_Pipeline.tags`), so records fetched before a failed batch's seek are not handled after it."""
        while not self._stopping.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=batch_size)
            if batches:
                await ahead.put((batches, pipeline.tags(batches)))


class _Pipeline:
    """What a consumer has in flight, settled in fetch order, and the offset commits that follow.

    A plain handler (blocking, run in a thread) gets each partition's records of one fetch at the same time as the
    other partitions' records (one thread each: their database round trips overlap), and the next fetch is handed
    over only after all of them (it is taken from aiokafka meanwhile, see `KafkaBus._fetch_ahead`). A pipelined
    handler (`subscribe_pipelined`) is awaited only until it has handed its batch on; up
    to `depth` batches then travel at once while the next are prepared. Either way an offset is committed only
    after its batch's effect is durable, in order per partition, one commit request for all partitions; the commit
    itself travels while the next batch is handled (a crash before it lands redelivers, and the consumers
    deduplicate). A failed batch seeks its partition back; later batches of that partition already in flight are
    neither committed nor trusted, and run again from there.
    """

    def __init__(self, consumer: AIOKafkaConsumer, prefix: str, handler, depth: int) -> None:
        self._consumer = consumer
        self._prefix = prefix
        self._handler = handler
        self._pipelined = depth > 0
        self._depth = max(depth, 1)
        self._inflight: deque[tuple[TopicPartition, int, int, int, asyncio.Future]] = deque()
        self._generation: dict[TopicPartition, int] = {}
        self._offsets: dict[TopicPartition, int] = {}
        self._commit: asyncio.Task | None = None
        self._backoff = 0.2

    def tags(self, batches: dict) -> dict[TopicPartition, int]:
        """The generation of each partition of a fetch when it was fetched (see `feed`)."""
        return {tp: self._generation.setdefault(tp, 0) for tp in batches}

    async def feed(self, batches: dict, tags: dict[TopicPartition, int]) -> None:
        """Start handling a fetch. Records fetched before their partition was sought back (tagged with an older
        generation) or that are no longer this consumer's (revoked while they waited) are dropped: the seek, or
        the partition's new owner, fetches them again."""
        assigned = self._consumer.assignment()
        for tp, records in batches.items():
            if tags[tp] != self._generation.get(tp, 0) or tp not in assigned:
                continue
            topic, partition = tp.topic[len(self._prefix):], tp.partition
            messages = [Message(topic, r.key.decode() if r.key else None, r.value, partition, r.offset) for r in records]
            generation = self._generation.setdefault(tp, 0)
            if self._pipelined:
                done = await self._start_pipelined(messages)
            else:
                done = asyncio.ensure_future(asyncio.to_thread(self._handler, messages))
            self._inflight.append((tp, generation, records[0].offset, records[-1].offset + 1, done))
        await self._settle(self._depth if self._pipelined else 1)

    async def _start_pipelined(self, messages: list[Message]) -> asyncio.Future:
        try:
            return asyncio.ensure_future(await self._handler(messages))
        except Exception as exc:  # failed before handing on: settle it like a failed completion
            failed = asyncio.get_running_loop().create_future()
            failed.set_exception(exc)
            return failed

    async def _settle(self, room: int) -> None:
        """Wait, in order, until fewer than `room` batches are in flight, then commit what became durable."""
        while self._inflight and (len(self._inflight) >= room or self._inflight[0][4].done()):
            tp, generation, first, after, done = self._inflight.popleft()
            try:
                await done
            except Exception:
                if generation == self._generation[tp]:
                    log.exception("handler failed on %s; retrying from offset %s", tp, first)
                    self._generation[tp] += 1  # later batches of tp in flight are not committed
                    try:
                        self._consumer.seek(tp, first)
                    except IllegalStateError:  # no longer ours (rebalance): its new owner starts at the last commit
                        log.warning("partition %s was reassigned while its batch failed; its new owner redoes it", tp)
                    await asyncio.sleep(self._backoff)
                    self._backoff = min(self._backoff * 2, 5.0)
                continue
            if generation == self._generation[tp]:
                self._backoff = 0.2
                self._offsets[tp] = after
        await self._commit_offsets()

    async def _commit_offsets(self) -> None:
        if not self._offsets:
            return
        if self._commit is not None:
            await self._commit  # commits land in order
        offsets, self._offsets = self._offsets, {}
        self._commit = asyncio.ensure_future(self._commit_now(offsets))

    async def _commit_now(self, offsets: dict[TopicPartition, int]) -> None:
        try:
            await self._consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            # A partition moved to another consumer of the group while these batches ran; the new owner gets
            # them again and the consumers' deduplication makes the repeat harmless.
            log.warning("offset commit for %s lost to a rebalance (%s); the batches will be redelivered", sorted(map(str, offsets)), exc)
        except Exception:
            log.exception("offset commit for %s failed; the batches will be redelivered", sorted(map(str, offsets)))

    async def close(self) -> None:
        """On stop: finish what is in flight and commit it (a cancelled stop leaves it to redelivery)."""
        try:
            await self._settle(1)
            if self._commit is not None:
                await self._commit
        except asyncio.CancelledError:
            if self._commit is not None:
                self._commit.cancel()
            raise
