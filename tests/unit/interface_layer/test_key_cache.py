"""The edge's cache of verified API keys without a database: what a revocation in this process drops and voids."""

from services.interface_layer.app.tenancy import KeyCache, Tenant
from tests.support.monotonic import ManualMonotonic as Clock

ACME = Tenant("ten_acme", "Acme", None)


def test_a_verified_key_is_kept_for_the_ttl_without_its_secret():
    clock = Clock()
    keys = KeyCache(5.0, clock)
    keys.put("pre1", "key_1", "hash1", ACME, keys.generation())
    clock.now += 4.9
    entry = keys.get("pre1")
    assert (entry.key_id, entry.key_hash, entry.tenant) == ("key_1", "hash1", ACME)
    clock.now += 0.1
    assert keys.get("pre1") is None


def test_revoking_drops_only_that_key_and_voids_every_lookup_in_flight():
    keys = KeyCache(5.0, Clock())
    keys.put("pre1", "key_1", "hash1", ACME, keys.generation())
    keys.put("pre2", "key_2", "hash2", ACME, keys.generation())
    read_before = keys.generation()
    keys.drop_key("key_1")
    assert keys.get("pre1") is None and keys.get("pre2").key_id == "key_2"
    keys.put("pre3", "key_3", "hash3", ACME, read_before)  # its tenant and id were unknown when it was read
    assert keys.get("pre3") is None
    keys.put("pre3", "key_3", "hash3", ACME, keys.generation())
    assert keys.get("pre3").key_id == "key_3"


def test_at_most_max_entries_keys_are_kept_the_oldest_making_room():
    keys = KeyCache(5.0, Clock(), max_entries=2)
    for n in (1, 2, 3):
        keys.put(f"pre{n}", f"key_{n}", "h", ACME, keys.generation())
    assert [keys.get(f"pre{n}") is not None for n in (1, 2, 3)] == [False, True, True]


def test_ttl_zero_keeps_nothing():
    keys = KeyCache(0, Clock())
    keys.put("pre1", "key_1", "hash1", ACME, keys.generation())
    assert keys.get("pre1") is None
