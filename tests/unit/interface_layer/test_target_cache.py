"""The edge's memory of usage targets: never longer than the TTL or the subscription, never past a change it forwarded."""

import asyncio
from datetime import datetime, timedelta

from libs.clock import FixedClock
from libs.platform.bus.inprocess import InProcessBus
from services.interface_layer.app.ingest_usage import IngestUsage, Target, UsageIn
from services.interface_layer.app.target_cache import TargetCache
from tests.unit.interface_layer.clocks import NOW, Clocks


def cache(ttl: float = 5.0):
    clocks = Clocks()
    return TargetCache(ttl, clocks.monotonic, clocks.wall), clocks


def test_an_answer_is_kept_for_the_ttl_and_not_after():
    c, clocks = cache()
    c.put("t1", ("m1", "kwh", None), "sub_a", c.generation("t1"))
    clocks.t += 4.9
    assert c.get("t1", ("m1", "kwh", None)) == "sub_a"
    clocks.t += 0.2
    assert c.get("t1", ("m1", "kwh", None)) is None


def test_an_answer_ends_with_its_subscription_even_within_the_ttl():
    c, clocks = cache(60)
    c.put("t1", "k", "sub_a", c.generation("t1"), valid_until=NOW + timedelta(seconds=2))
    clocks.t += 1.9
    assert c.get("t1", "k") == "sub_a"
    clocks.t += 0.2
    assert c.get("t1", "k") is None
    c.put("t1", "k", "sub_ended", c.generation("t1"), valid_until=NOW)  # already over: not kept at all
    assert c.get("t1", "k") is None


def test_forgetting_a_tenant_drops_its_answers_and_voids_one_asked_for_before():
    c, _ = cache(60)
    c.put("t1", "k", "sub_a", c.generation("t1"))
    c.put("t2", "k", "sub_b", c.generation("t2"))
    asked_at = c.generation("t1")  # a resolve in flight while the subscription is cancelled through this edge
    c.invalidate("t1")
    assert c.get("t1", "k") is None and c.get("t2", "k") == "sub_b"
    c.put("t1", "k", "sub_stale", asked_at)
    assert c.get("t1", "k") is None
    c.put("t1", "k", "sub_new", c.generation("t1"))
    assert c.get("t1", "k") == "sub_new"


def test_a_ttl_of_zero_keeps_nothing():
    c, _ = cache(0)
    c.put("t1", "k", "sub_a", c.generation("t1"))
    assert c.get("t1", "k") is None


class CountingTargets:
    """The billing factory's answers: `cust` is billed by sub_a until `ends` (None: open-ended), others are unknown."""

    def __init__(self, ends: datetime | None = None):
        self.asked: list[tuple[str, str, str | None]] = []
        self.ends = ends
        self.while_asking = lambda: None

    async def resolve_items(self, tenant_id, items):
        self.asked.extend(items)
        self.while_asking()
        return [Target("sub_a", "cus_1", valid_until=self.ends) if customer == "cust"
                else Target(None, None, "customer", "unknown customer") for customer, _metric, _hint in items]


def edge(targets: CountingTargets, ttl: float = 60):
    c, clocks = cache(ttl)
    return IngestUsage(InProcessBus(), targets, FixedClock(NOW), 300, 62, c), clocks


def send(ingest: IngestUsage, *customers: str) -> tuple[int, int]:
    async def run():
        events = [UsageIn(f"e{i}", customer, "kwh", NOW, {}) for i, customer in enumerate(customers)]
        durable, counts = await ingest.forward_raw("t1", events, [b"{}"] * len(events))
        await durable
        return counts
    return asyncio.run(run())


def test_the_raw_path_asks_once_per_ttl_and_afresh_after_a_change_forwarded_for_the_tenant():
    targets = CountingTargets()
    ingest, clocks = edge(targets)
    assert send(ingest, "cust", "cust") == (2, 0)
    assert send(ingest, "cust") == (1, 0)
    assert len(targets.asked) == 1
    ingest.forget_targets("t1")
    send(ingest, "cust")
    assert len(targets.asked) == 2
    clocks.t += 60
    send(ingest, "cust")
    assert len(targets.asked) == 3


def test_the_raw_path_asks_again_for_an_unknown_customer_and_after_the_subscription_ends():
    targets = CountingTargets(ends=NOW + timedelta(seconds=2))
    ingest, clocks = edge(targets)
    assert send(ingest, "nobody") == (0, 1)
    assert send(ingest, "nobody") == (0, 1)
    assert targets.asked.count(("nobody", "kwh", None)) == 2
    send(ingest, "cust")
    clocks.t += 1.9
    send(ingest, "cust")
    assert targets.asked.count(("cust", "kwh", None)) == 1
    clocks.t += 0.2
    send(ingest, "cust")
    assert targets.asked.count(("cust", "kwh", None)) == 2


def test_an_answer_asked_for_while_a_change_is_forwarded_is_not_kept():
    targets = CountingTargets()
    ingest, _ = edge(targets)
    targets.while_asking = lambda: ingest.forget_targets("t1")
    send(ingest, "cust")
    targets.while_asking = lambda: None
    send(ingest, "cust")
    assert len(targets.asked) == 2
