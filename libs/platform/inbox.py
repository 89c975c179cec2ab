"""Idempotent inbox: a consumer records each message id with its effect, in one transaction.

`first_delivery` inserts the id and says whether this is the first time; a
redelivered message (Kafka rebalance, relay replay, crash before the offset
commit) finds its id and is skipped, so its effect is applied once.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Column, Connection, DateTime, MetaData, PrimaryKeyConstraint, String, Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("consumer", String(100), nullable=False),
        Column("message_id", String(300), nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False),
        PrimaryKeyConstraint("consumer", "message_id"),
    )


def insert_ignoring_duplicates(conn: Connection, table: Table, rows: list[dict], conflict_cols: list[str]):
    """INSERT ... ON CONFLICT DO NOTHING RETURNING on both dialects; returns the inserted rows' conflict keys."""
    if not rows:
        return []
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    # executemany with RETURNING: SQLAlchemy batches it into multi-row INSERTs from one cached compiled statement
    stmt = dialect_insert(table).on_conflict_do_nothing(index_elements=conflict_cols).returning(*[table.c[c] for c in conflict_cols])
    return [tuple(r) for r in conn.execute(stmt, rows)]


def first_delivery(conn: Connection, inbox: Table, consumer: str, message_id: str) -> bool:
    row = {"consumer": consumer, "message_id": message_id, "received_at": datetime.now(timezone.utc)}
    return bool(insert_ignoring_duplicates(conn, inbox, [row], ["consumer", "message_id"]))
