"""Engines for PostgreSQL (one schema per service) and SQLite (one file per service).

Tables are declared without a schema; on PostgreSQL the engine maps them into
the service's schema with `schema_translate_map`, so the same Core statements
run on both.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text


def make_engine(url: str | None, schema: str, sqlite_dir: Path | None = None, pool_size: int = 10) -> Engine:
    if not url:
        if sqlite_dir is None:
            raise ValueError("an SQLite file needs a data directory")
        sqlite_dir.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{sqlite_dir / (schema + '.sqlite3')}"
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=True)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    return engine.execution_options(schema_translate_map={None: schema})


def schema_of(conn: Connection) -> str:
    """The PostgreSQL schema this connection's tables map into (`make_engine`), for SQL written by hand."""
    translate = conn.get_execution_options().get("schema_translate_map") or {}
    return translate.get(None) or "public"


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None  # let SQLAlchemy's begin event issue BEGIN IMMEDIATE
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_begin_immediate(conn) -> None:
    # SQLite's deferred BEGIN upgrades to a write lock late and can deadlock; take it up front.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def is_postgres(engine_or_conn) -> bool:
    return engine_or_conn.dialect.name == "postgresql"
