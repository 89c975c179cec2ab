"""Each service's Alembic migrations build exactly the schema its tables declare, in its own PostgreSQL schema."""

import importlib
import os
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from libs.platform.migrations import upgrade

SERVICES = ["billing_factory", "invoice_factory", "payment_factory", "interface_layer"]


@pytest.fixture(scope="module")
def pg_engine():
    url = os.environ.get("CLOUDBILL_PG_URL")
    if not url:
        if os.environ.get("CLOUDBILL_REQUIRE_INFRA") == "1":
            pytest.fail("CLOUDBILL_PG_URL is required")
        pytest.skip("CLOUDBILL_PG_URL not set")
    engine = create_engine(url)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_match_the_declared_tables_and_are_idempotent(pg_engine, service):
    importlib.import_module(f"services.{service}.adapters.tables")
    metadata = importlib.import_module(f"services.{service}.adapters.metadata").metadata
    schema = f"mig_{service.split('_')[0]}_{uuid.uuid4().hex[:6]}"
    location = Path(f"services/{service}/migrations").resolve()
    upgrade(location, pg_engine, schema)
    upgrade(location, pg_engine, schema)  # a second start finds nothing to do
    tables = set(inspect(pg_engine).get_table_names(schema=schema))
    assert set(metadata.tables) <= tables and "alembic_version" in tables
    with pg_engine.connect() as conn:
        conn.execute(text(f'SET search_path TO "{schema}"'))
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == [], f"{service}: tables and migrations differ; add a revision: {diff}"


def test_usage_event_keys_compare_bytewise_on_postgresql(pg_engine):
    """Alembic does not compare collations, so this one is checked here: the usage table's key columns are COLLATE "C"
    (migration 0010), which the insert-heavy usage path relies on for cheap index comparisons."""
    importlib.import_module("services.billing_factory.adapters.tables")
    schema = f"mig_collate_{uuid.uuid4().hex[:6]}"
    upgrade(Path("services/billing_factory/migrations").resolve(), pg_engine, schema)
    with pg_engine.connect() as conn:
        collations = dict(conn.execute(text(
            "SELECT column_name, collation_name FROM information_schema.columns "
            "WHERE table_schema = :schema AND table_name = 'usage_events' AND collation_name IS NOT NULL"), {"schema": schema}).all())
    assert collations == {"tenant_id": "C", "event_id": "C", "subscription_id": "C"}  # the others keep the default
