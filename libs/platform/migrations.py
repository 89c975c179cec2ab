"""Alembic for each service's own PostgreSQL schema, driven from code.

Every service keeps its migrations in services/<name>/migrations. They run
with `search_path` set to the service's schema, so the revision files name
no schema and the version table lives beside the service's tables.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Engine, MetaData, text


def alembic_config(script_location: Path, engine: Engine, schema: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.attributes["engine"] = engine
    cfg.attributes["schema"] = schema
    return cfg


def upgrade(script_location: Path, engine: Engine, schema: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(script_location, engine, schema), revision)


def _not_the_version_table(obj, name, type_, reflected, compare_to) -> bool:
    # with search_path on the service schema, autogenerate would otherwise propose dropping Alembic's own table
    return not (type_ == "table" and name == "alembic_version")


def run_env(metadata: MetaData) -> None:
    """Body of every service's migrations/env.py (online mode only: we always have the engine)."""
    cfg = context.config
    engine: Engine = cfg.attributes["engine"]
    schema: str = cfg.attributes["schema"]
    with engine.connect() as conn:
        # Scaled instances start together; one migrates, the others wait and find nothing to do.
        conn.execute(text("SELECT pg_advisory_lock(hashtext(:s))"), {"s": schema})
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        conn.execute(text(f'SET search_path TO "{schema}"'))
        conn.commit()
        context.configure(connection=conn, target_metadata=metadata, version_table_schema=schema, compare_type=True,
                          include_object=_not_the_version_table)
        with context.begin_transaction():
            context.run_migrations()
        conn.execute(text("SELECT pg_advisory_unlock(hashtext(:s))"), {"s": schema})
        conn.execute(text("RESET search_path"))  # the connection goes back to a pool shared with the application
        conn.commit()


def prepare_schema(engine: Engine, metadata: MetaData, script_location: Path, schema: str) -> None:
    """PostgreSQL: run the service's migrations. SQLite (embedded mode, unit tests): create the tables."""
    if engine.dialect.name == "postgresql":
        upgrade(script_location, engine, schema)
    else:
        metadata.create_all(engine)
