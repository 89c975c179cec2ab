"""A PostgreSQL engine on a fresh, migrated schema of one service, for adapter tests against the real server."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, text

from libs.platform.db import make_engine
from libs.platform.migrations import prepare_schema


def require(*names: str) -> None:
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        if os.environ.get("CLOUDBILL_REQUIRE_INFRA") == "1":
            pytest.fail(f"{', '.join(missing)} required: the real servers must run")
        pytest.skip(f"{', '.join(missing)} not set: start the servers with deploy/local/stack.sh up")


def fresh_engine(metadata: MetaData, migrations: Path, prefix: str, pool_size: int = 10) -> Engine:
    require("CLOUDBILL_PG_URL")
    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    engine = make_engine(os.environ["CLOUDBILL_PG_URL"], schema, pool_size=pool_size)
    prepare_schema(engine, metadata, migrations, schema)
    return engine


def drop_engine(engine: Engine) -> None:
    """Drop the schema `fresh_engine` made and close the engine's connections."""
    schema = engine.get_execution_options()["schema_translate_map"][None]
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()
