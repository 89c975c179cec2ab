"""The edge's cache of verified API keys, against PostgreSQL: two Tenancy objects on one schema are two edge replicas."""

from pathlib import Path

import pytest
from sqlalchemy import event, text

from services.interface_layer.adapters import tables  # noqa: F401  (registers the tables)
from services.interface_layer.adapters.metadata import metadata
from services.interface_layer.app.tenancy import KeyCache, NotAuthenticated, Tenancy
from tests.support.pg import fresh_engine
from tests.support.monotonic import ManualMonotonic as Clock

MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "interface_layer" / "migrations"
TTL = 5.0


@pytest.fixture
def engine():
    eng = fresh_engine(metadata, MIGRATIONS, "edge_keys")
    yield eng
    schema = eng.get_execution_options()["schema_translate_map"][None]
    with eng.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    eng.dispose()


def queries(engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine.engine, "before_cursor_execute", lambda conn, cursor, statement, *a: seen.append(statement))
    return seen


def test_a_verified_key_is_answered_without_the_database_until_the_ttl(engine):
    clock = Clock()
    tenancy = Tenancy(engine, KeyCache(TTL, clock))
    created = tenancy.create_tenant("Acme")
    assert tenancy.authenticate(created.api_key).id == created.tenant.id
    seen = queries(engine)
    assert tenancy.authenticate(created.api_key).id == created.tenant.id
    assert seen == []
    clock.now += TTL + 0.1
    assert tenancy.authenticate(created.api_key).id == created.tenant.id
    assert len(seen) == 1  # expired: asked again


def test_a_wrong_secret_is_refused_even_when_its_prefix_is_cached(engine):
    tenancy = Tenancy(engine, KeyCache(TTL, Clock()))
    created = tenancy.create_tenant("Acme")
    tenancy.authenticate(created.api_key)
    with pytest.raises(NotAuthenticated):
        tenancy.authenticate(created.api_key[:-1] + ("A" if created.api_key[-1] != "A" else "B"))


def test_a_revoked_key_is_refused_at_once_in_the_revoking_process(engine):
    tenancy = Tenancy(engine, KeyCache(TTL, Clock()))
    created = tenancy.create_tenant("Acme")
    key_id, token = tenancy.create_key(created.tenant.id, "device")
    assert tenancy.authenticate(token).id == created.tenant.id  # now cached
    assert tenancy.revoke_key(created.tenant.id, key_id)
    with pytest.raises(NotAuthenticated):
        tenancy.authenticate(token)
    assert tenancy.authenticate(created.api_key).id == created.tenant.id  # the tenant's other key still works


def test_another_replica_refuses_a_revoked_key_once_its_entry_expires(engine):
    clock = Clock()
    revoking, other = Tenancy(engine, KeyCache(TTL, clock)), Tenancy(engine, KeyCache(TTL, clock))
    created = revoking.create_tenant("Acme")
    key_id, token = revoking.create_key(created.tenant.id, "device")
    other.authenticate(token)
    assert revoking.revoke_key(created.tenant.id, key_id)
    clock.now += TTL - 0.5
    assert other.authenticate(token).id == created.tenant.id  # the documented window: at most the TTL
    clock.now += 1.0
    with pytest.raises(NotAuthenticated):
        other.authenticate(token)


def test_a_lookup_that_raced_a_revocation_is_not_cached(engine):
    tenancy = Tenancy(engine, KeyCache(TTL, Clock()))
    created = tenancy.create_tenant("Acme")
    key_id, token = tenancy.create_key(created.tenant.id, "device")
    read_before = tenancy.key_cache.generation()  # a request read the (still valid) key ...
    assert tenancy.revoke_key(created.tenant.id, key_id)  # ... the key is revoked meanwhile ...
    prefix = token.split("_")[1]
    tenancy.key_cache.put(prefix, key_id, "hash", created.tenant, read_before)  # ... and its answer arrives late
    assert tenancy.key_cache.get(prefix) is None
    with pytest.raises(NotAuthenticated):
        tenancy.authenticate(token)


def test_ttl_zero_asks_the_database_every_time(engine):
    tenancy = Tenancy(engine, KeyCache(0))
    created = tenancy.create_tenant("Acme")
    tenancy.authenticate(created.api_key)
    seen = queries(engine)
    tenancy.authenticate(created.api_key)
    assert len(seen) == 1
