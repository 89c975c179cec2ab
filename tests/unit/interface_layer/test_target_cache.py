"""The edge's memory of usage targets: never longer than the TTL or the subscription, never past a change it forwarded."""

from datetime import datetime, timedelta, timezone

from services.interface_layer.app.target_cache import TargetCache

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


class Clocks:
    def __init__(self):
        self.t = 100.0

    def monotonic(self) -> float:
        return self.t

    def wall(self) -> datetime:
        return NOW + timedelta(seconds=self.t - 100.0)


def cache(ttl: float = 5.0):
    clocks = Clocks()
    return TargetCache(ttl, clocks.monotonic, clocks.wall), clocks


def test_an_answer_is_kept_for_the_ttl_and_not_after():
    c, clocks = cache()
    c.put("t1", ("m1", "kwh", None), "sub_a", None, c.generation("t1"))
    clocks.t += 4.9
    assert c.get("t1", ("m1", "kwh", None)) == "sub_a"
    clocks.t += 0.2
    assert c.get("t1", ("m1", "kwh", None)) is None


def test_an_answer_ends_with_its_subscription_even_within_the_ttl():
    c, clocks = cache(60)
    c.put("t1", "k", "sub_a", NOW + timedelta(seconds=2), c.generation("t1"))
    clocks.t += 1.9
    assert c.get("t1", "k") == "sub_a"
    clocks.t += 0.2
    assert c.get("t1", "k") is None
    c.put("t1", "k", "sub_ended", NOW, c.generation("t1"))  # already over: not kept at all
    assert c.get("t1", "k") is None


def test_forgetting_a_tenant_drops_its_answers_and_voids_one_asked_for_before():
    c, _ = cache(60)
    c.put("t1", "k", "sub_a", None, c.generation("t1"))
    c.put("t2", "k", "sub_b", None, c.generation("t2"))
    asked_at = c.generation("t1")  # a resolve in flight while the subscription is cancelled through this edge
    c.forget("t1")
    assert c.get("t1", "k") is None and c.get("t2", "k") == "sub_b"
    c.put("t1", "k", "sub_stale", None, asked_at)
    assert c.get("t1", "k") is None
    c.put("t1", "k", "sub_new", None, c.generation("t1"))
    assert c.get("t1", "k") == "sub_new"


def test_a_ttl_of_zero_keeps_nothing():
    c, _ = cache(0)
    c.put("t1", "k", "sub_a", None, c.generation("t1"))
    assert c.get("t1", "k") is None
