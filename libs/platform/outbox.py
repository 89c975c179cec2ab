"""Transactional outbox: events are rows written in the same transaction as the change.

A relay reads unpublished rows in order, publishes them, and marks them
published. A relay killed after publishing but before marking publishes the
row again on restart; consumers' inboxes make that harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import BigInteger, Column, Connection, DateTime, Integer, LargeBinary, MetaData, String, Table, select, update

from libs.contracts.envelope import Contract, encode
from libs.ids import new_id


@dataclass(frozen=True)
class OutboxTable:
    table: Table


def outbox_table(metadata: MetaData) -> OutboxTable:
    return OutboxTable(
        Table(
            "outbox",
            metadata,
            Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
            Column("message_id", String(300), nullable=False, unique=True),
            Column("topic", String(200), nullable=False),
            Column("key", String(200), nullable=False),
            Column("payload", LargeBinary, nullable=False),
            Column("created_at", DateTime(timezone=True), nullable=False),
            Column("published_at", DateTime(timezone=True), nullable=True, index=True),
        )
    )


def write_outbox(conn: Connection, outbox: OutboxTable, tenant_id: str, topic: str, key: str, event: Contract, message_id: str | None = None) -> str:
    values = outbox_values(tenant_id, topic, key, event, message_id)
    conn.execute(outbox.table.insert().values(**values))
    return values["message_id"]


def outbox_values(tenant_id: str, topic: str, key: str, event: Contract, message_id: str | None = None) -> dict:
    """The columns of an outbox row for `event` (also written without SQLAlchemy, by the payment factory's async path)."""
    mid = message_id or new_id("msg")
    return {"message_id": mid, "topic": topic, "key": key, "payload": encode(tenant_id, event, mid), "created_at": datetime.now(timezone.utc)}


@dataclass(frozen=True)
class OutboxRow:
    seq: int
    topic: str
    key: str
    payload: bytes


def fetch_unpublished(conn: Connection, outbox: OutboxTable, limit: int = 500) -> list[OutboxRow]:
    t = outbox.table
    stmt = select(t.c.seq, t.c.topic, t.c.key, t.c.payload).where(t.c.published_at.is_(None)).order_by(t.c.seq).limit(limit)
    if conn.dialect.name == "postgresql":
        # Several relay instances may run (scaled service); each row goes to one of them.
        stmt = stmt.with_for_update(skip_locked=True)
    return [OutboxRow(r.seq, r.topic, r.key, bytes(r.payload)) for r in conn.execute(stmt)]


def mark_published(conn: Connection, outbox: OutboxTable, seqs: list[int]) -> None:
    if seqs:
        conn.execute(update(outbox.table).where(outbox.table.c.seq.in_(seqs)).values(published_at=datetime.now(timezone.utc)))
