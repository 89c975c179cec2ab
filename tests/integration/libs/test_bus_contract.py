"""One contract, two buses: the in-process twin must deliver like Kafka (durable publish, every group, redelivery on failure)."""

import asyncio
import threading
import uuid

import pytest

from libs.platform.bus.inprocess import InProcessBus
from tests.integration.libs.conftest import require_env


def make_bus(kind: str):
    if kind == "inprocess":
        return InProcessBus(), ""
    from libs.platform.bus.kafka import KafkaBus

    prefix = f"bus{uuid.uuid4().hex[:8]}."
    return KafkaBus(require_env("CLOUDBILL_KAFKA_BOOTSTRAP"), client_id="contract", partitions=2, topic_prefix=prefix), prefix


async def until(predicate, seconds: float = 30.0) -> None:
    for _ in range(int(seconds * 20)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.mark.parametrize("kind", ["inprocess", "kafka"])
def test_every_group_gets_every_message_keyed_and_in_order_per_key(kind):
    async def scenario():
        bus, _ = make_bus(kind)
        got: dict[str, list[tuple[str | None, bytes]]] = {"a": [], "b": []}
        lock = threading.Lock()

        def handler(group):
            def handle(messages):
                with lock:
                    got[group].extend((m.key, m.value) for m in messages)
            return handle

        bus.subscribe(["contract.topic"], "group-a", handler("a"))
        bus.subscribe(["contract.topic"], "group-b", handler("b"))
        await bus.start()
        try:
            await bus.publish_many([("contract.topic", "k1", f"{i}".encode()) for i in range(20)])
            await bus.publish("contract.topic", "k2", b"last")
            await until(lambda: len(got["a"]) == 21 and len(got["b"]) == 21)
        finally:
            await bus.stop()
        for group in ("a", "b"):
            assert [v for k, v in got[group] if k == "k1"] == [f"{i}".encode() for i in range(20)]
            assert ("k2", b"last") in got[group]

    asyncio.run(scenario())


@pytest.mark.parametrize("kind", ["inprocess", "kafka"])
def test_a_failing_handler_gets_the_message_again(kind):
    async def scenario():
        bus, _ = make_bus(kind)
        attempts: list[bytes] = []

        def flaky(messages):
            attempts.extend(m.value for m in messages)
            if len(attempts) == 1:
                raise RuntimeError("database down")

        bus.subscribe(["contract.retry"], "group-r", flaky)
        await bus.start()
        try:
            if kind == "inprocess":
                # the in-process publish fails with the handler, so the publisher (the outbox relay) retries
                with pytest.raises(RuntimeError):
                    await bus.publish("contract.retry", "k", b"m1")
                await bus.publish("contract.retry", "k", b"m1")
            else:
                await bus.publish("contract.retry", "k", b"m1")
            await until(lambda: attempts.count(b"m1") >= 2)
        finally:
            await bus.stop()

    asyncio.run(scenario())


def collecting():
    """A handler that keeps (key, partition, value) of every message it gets, and the list it keeps them in."""
    got: list[tuple[str | None, int, bytes]] = []
    lock = threading.Lock()

    def handle(messages):
        with lock:
            got.extend((m.key, m.partition, m.value) for m in messages)

    return got, handle


@pytest.mark.parametrize("kind", ["inprocess", "kafka"])
def test_a_large_publish_many_lands_each_key_where_a_single_publish_does_in_order(kind):
    """publish_many appends big keyed lots to record batches itself; keys must keep their partition and order."""
    async def scenario():
        bus, _ = make_bus(kind)
        got, handle = collecting()

        bus.subscribe(["contract.many"], "group-m", handle)
        await bus.start()
        try:
            for key in ("s-alone-1", "s-alone-2", "s-alone-3"):
                await bus.publish("contract.many", key, b"single")
            lot = [("contract.many", f"s-{i % 7}", f"{i}:".encode() + b"x" * 2000) for i in range(400)]  # > one 256 KiB batch
            lot += [("contract.many", key, b"again") for key in ("s-alone-1", "s-alone-2", "s-alone-3")]
            await bus.publish_many(lot)
            await until(lambda: len(got) == 406)
        finally:
            await bus.stop()
        for key in ("s-alone-1", "s-alone-2", "s-alone-3"):
            assert len({p for k, p, _ in got if k == key}) == 1  # the single publish and the lot agree on the partition
        for k in range(7):
            values = [int(v.split(b":")[0]) for key, _, v in got if key == f"s-{k}"]
            assert values == [i for i in range(400) if i % 7 == k]

    asyncio.run(scenario())


@pytest.mark.parametrize("kind", ["inprocess", "kafka"])
def test_enqueue_on_the_partition_of_a_key_lands_beside_that_keys_messages_in_order(kind):
    """Batch messages of the usage topic are placed by `partition_of`: they must share partition and order with keyed ones."""
    async def scenario():
        bus, _ = make_bus(kind)
        got, handle = collecting()

        bus.subscribe(["contract.placed"], "group-p", handle)
        await bus.start()
        try:
            keys = [f"sub-{i}" for i in range(8)]
            await bus.publish_many([("contract.placed", k, b"keyed-1") for k in keys])
            placed = [("contract.placed", None, f"{k}:packed-{n}".encode(), await bus.partition_of("contract.placed", k))
                      for n in range(3) for k in keys]
            await (await bus.enqueue(placed))
            await bus.publish_many([("contract.placed", k, b"keyed-2") for k in keys])
            await until(lambda: len(got) == 8 * 5)
        finally:
            await bus.stop()
        for k in keys:
            (partition,) = {p for key, p, _ in got if key == k}
            mine = [v for key, p, v in got if p == partition and (key == k or v.startswith(f"{k}:".encode()))]
            assert mine == [b"keyed-1", *(f"{k}:packed-{n}".encode() for n in range(3)), b"keyed-2"]

    asyncio.run(scenario())


def test_a_pipelined_handler_whose_batch_fails_after_handing_on_gets_it_again_and_commits_only_then():
    async def scenario():
        bus, prefix = make_bus("kafka")
        handled: list[bytes] = []
        failed: list[bool] = []

        async def pipelined(messages):
            handled.extend(m.value for m in messages)

            async def durable():
                await asyncio.sleep(0.05)  # still travelling while the next batch is fetched
                if not failed:
                    failed.append(True)
                    raise RuntimeError("broker did not acknowledge")

            return durable()

        bus.subscribe_pipelined(["contract.pipe"], "group-pipe", pipelined, batch_size=5)
        await bus.start()
        try:
            await bus.publish_many([("contract.pipe", "k", f"{i}".encode()) for i in range(20)])
            await until(lambda: set(handled) >= {f"{i}".encode() for i in range(20)} and len(handled) > 20)
        finally:  # stopping finishes what is in flight and commits it
            await bus.stop()
        # the failed batch came again (so more deliveries than messages), and its messages were not skipped
        assert failed and len(handled) > 20

        # a new consumer of the group starts after the last committed offset: everything handled durably, nothing more
        again: list[bytes] = []
        second = make_bus_with_prefix(prefix)
        second.subscribe(["contract.pipe"], "group-pipe", lambda messages: again.extend(m.value for m in messages))
        await second.start()
        try:
            await second.publish("contract.pipe", "k", b"after")
            await until(lambda: b"after" in again)
        finally:
            await second.stop()
        assert again == [b"after"]

    asyncio.run(scenario())


def make_bus_with_prefix(prefix: str):
    from libs.platform.bus.kafka import KafkaBus

    return KafkaBus(require_env("CLOUDBILL_KAFKA_BOOTSTRAP"), client_id="contract-2", partitions=2, topic_prefix=prefix)


def test_records_fetched_ahead_of_a_failed_batch_are_handled_only_after_it_in_order():
    """The consumer takes the next fetch while a batch is handled; when that batch fails and its partition is sought
    back, what was fetched ahead must not be handled before the failed batch comes again."""
    async def scenario():
        bus, _ = make_bus("kafka")
        calls: list[list[int]] = []
        lock = threading.Lock()

        def failing_once(messages):
            with lock:
                calls.append([int(m.value) for m in messages])
                first_call = len(calls) == 1
            if first_call:
                threading.Event().wait(0.3)  # long enough for the next fetch to be taken meanwhile
                raise RuntimeError("database down")

        bus.subscribe(["contract.ahead"], "group-ahead", failing_once, batch_size=10)
        await bus.start()
        try:
            await bus.publish_many([("contract.ahead", "k", f"{i}".encode()) for i in range(40)])
            await until(lambda: sum(len(c) for c in calls[1:]) >= 40 and calls[-1][-1] == 39)
        finally:
            await bus.stop()
        first, *rest = calls
        assert first[0] == 0
        handled_after = [v for c in rest for v in c]
        assert handled_after == list(range(40)), f"after the failure the partition went on as {[c[0] for c in rest]}"

    asyncio.run(scenario())
