"""One ledger contract, two engines: SQLite in a temp file and PostgreSQL in a throwaway schema."""

import os
import uuid

import pytest
from sqlalchemy import MetaData, text

from libs.clock import FixedClock
from libs.platform.db import make_engine
from services.payment_factory.adapters.ledger_tables import ledger_tables
from services.payment_factory.adapters.metadata import metadata as service_metadata
from services.payment_factory.adapters.sql_ledger import SqlLedger


def pg_url() -> str:
    url = os.environ.get("CLOUDBILL_PG_URL")
    if not url:
        if os.environ.get("CLOUDBILL_REQUIRE_INFRA") == "1":
            pytest.fail("CLOUDBILL_PG_URL is not set but the real servers are required")
        pytest.skip("CLOUDBILL_PG_URL not set: the PostgreSQL half of the ledger contract needs a server")
    return url


@pytest.fixture(scope="session")
def ledger_metadata():
    # a private MetaData with the ledger tables alone: the contract is the ledger's, not the service's schema
    md = MetaData(naming_convention=service_metadata.naming_convention)
    ledger_tables(md)
    return md


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request, tmp_path, ledger_metadata):
    if request.param == "sqlite":
        eng = make_engine(None, "payment", tmp_path)
        schema = None
    else:
        schema = f"ledger_test_{uuid.uuid4().hex[:10]}"
        eng = make_engine(pg_url(), schema, pool_size=60)
    ledger_metadata.create_all(eng)
    yield eng
    if schema:
        with eng.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    eng.dispose()


@pytest.fixture
def clock():
    return FixedClock()


@pytest.fixture
def ledger(ledger_metadata, clock):
    return SqlLedger(ledger_tables(ledger_metadata), clock)
