"""The edge's one cache mechanism: entries expire, a change voids them at once (and answers fetched before it), bounded."""

from datetime import timedelta

from services.interface_layer.app.ttl_cache import TtlCache
from tests.unit.interface_layer.clocks import NOW, Clocks


def cache(ttl: float = 5.0, max_entries: int = 100):
    clocks = Clocks()
    return TtlCache(ttl, max_entries, clocks.monotonic, clocks.wall), clocks


def test_an_entry_is_kept_for_the_ttl_and_not_at_or_after_its_end():
    c, clocks = cache(5.0)
    c.put("s", "k", "v", c.generation("s"))
    clocks.t += 4.999
    assert c.get("s", "k") == "v"
    clocks.t = 105.0
    assert c.get("s", "k") is None
    c.put("s", "k", "v2", c.generation("s"))  # asked again: kept afresh
    clocks.t += 4.9
    assert c.get("s", "k") == "v2"


def test_a_ttl_of_zero_keeps_nothing():
    c, _ = cache(0)
    assert not c.enabled
    c.put("s", "k", "v", c.generation("s"))
    assert c.get("s", "k") is None


def test_valid_until_ends_an_entry_before_the_ttl_but_never_extends_it():
    c, clocks = cache(60)
    c.put("s", "short", "v", c.generation("s"), valid_until=NOW + timedelta(seconds=2))
    c.put("s", "long", "w", c.generation("s"), valid_until=NOW + timedelta(days=30))
    clocks.t += 1.9
    assert c.get("s", "short") == "v"
    clocks.t += 0.2
    assert c.get("s", "short") is None
    clocks.t += 57.8  # 59.9 s
    assert c.get("s", "long") == "w"
    clocks.t += 0.2
    assert c.get("s", "long") is None  # the TTL still bounds it


def test_an_entry_already_over_is_not_kept():
    c, _ = cache(60)
    c.put("s", "now", "v", c.generation("s"), valid_until=NOW)
    c.put("s", "past", "v", c.generation("s"), valid_until=NOW - timedelta(seconds=1))
    assert c.get("s", "now") is None and c.get("s", "past") is None


def test_an_answer_fetched_before_an_invalidation_is_not_kept_after_it():
    c, _ = cache(60)
    asked_at = c.generation("s")  # a lookup starts and reads the old state ...
    c.invalidate("s")  # ... the state changes here meanwhile ...
    c.put("s", "k", "stale", asked_at)  # ... and its answer arrives
    assert c.get("s", "k") is None
    c.put("s", "k", "fresh", c.generation("s"))  # a lookup started after the change is kept
    assert c.get("s", "k") == "fresh"


def test_a_selective_invalidation_still_voids_every_answer_of_the_scope_in_flight():
    c, _ = cache(60)
    asked_at = c.generation("s")
    c.invalidate("s", where=lambda v: v == "other")
    c.put("s", "k", "v", asked_at)  # which entry the answer is was not known when it was asked for
    assert c.get("s", "k") is None


def test_invalidation_is_per_scope():
    c, _ = cache(60)
    c.invalidate("t2")  # both tenants have changed before
    c.put("t1", "k", "a", c.generation("t1"))
    c.put("t2", "k", "b", c.generation("t2"))
    t2_asked_at = c.generation("t2")
    c.invalidate("t1")
    assert c.get("t1", "k") is None
    assert c.get("t2", "k") == "b"  # another tenant's entries stay ...
    c.put("t2", "k2", "c", t2_asked_at)  # ... and so do its answers in flight
    assert c.get("t2", "k2") == "c"


def test_a_selective_invalidation_drops_only_what_it_selects():
    c, _ = cache(60)
    for key, value in [("p1", "key_a"), ("p2", "key_b"), ("p3", "key_a")]:
        c.put("s", key, value, c.generation("s"))
    c.invalidate("s", where=lambda v: v == "key_a")
    assert (c.get("s", "p1"), c.get("s", "p2"), c.get("s", "p3")) == (None, "key_b", None)


def test_a_full_scope_makes_room_by_dropping_its_oldest_insertion():
    c, _ = cache(60, max_entries=3)
    for key in ["a", "b", "c"]:
        c.put("s", key, key.upper(), c.generation("s"))
    c.put("other", "x", "X", c.generation("other"))  # the cap is per scope
    c.put("s", "d", "D", c.generation("s"))
    assert [c.get("s", k) for k in "abcd"] == [None, "B", "C", "D"]
    assert c.get("other", "x") == "X"
    c.put("s", "c", "C2", c.generation("s"))  # replacing an entry makes no room at another's cost ...
    assert [c.get("s", k) for k in "bcd"] == ["B", "C2", "D"]
    c.put("s", "e", "E", c.generation("s"))  # ... and makes it the youngest: "b", then "d", are the oldest now
    c.put("s", "f", "F", c.generation("s"))
    assert [c.get("s", k) for k in "bcdef"] == [None, "C2", None, "E", "F"]

