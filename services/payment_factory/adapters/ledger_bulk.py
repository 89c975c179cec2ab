"""Multi-row inserts for the batch path as one fixed statement each: INSERT ... SELECT FROM unnest(arrays).

A multi-row VALUES list is a new SQL text for every batch size, which the
driver parses and PostgreSQL plans again each time; with arrays the text
never changes, so it is compiled once here and prepared once by the server,
whatever the batch size. PostgreSQL only: SQLite keeps the plain executemany.
"""

from __future__ import annotations

import json
from functools import cache

from sqlalchemy import JSON, BigInteger, Boolean, Connection, DateTime, SmallInteger, String, Table, bindparam, cast, func, null, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.payment_factory.adapters.ledger_tables import LedgerTables

ENTRY_COLUMNS = {"transfer_id": String, "leg": SmallInteger, "direction": String, "tenant_id": String, "account_id": String,
                 "currency": String, "amount": BigInteger, "phase": String, "created_at": DateTime(timezone=True)}
TRANSFER_COLUMNS = {"id": String, "tenant_id": String, "idempotency_key": String, "body_hash": String, "status": String,
                    "is_hold": Boolean, "created_at": DateTime(timezone=True), "metadata": String}


def _unnest(columns: dict):
    arrays = [bindparam(name, type_=ARRAY(kind)) for name, kind in columns.items()]
    return func.unnest(*arrays).table_valued(*columns).render_derived(name="src")


@cache
def _entries_stmt(entries: Table):
    src = _unnest(ENTRY_COLUMNS)
    return entries.insert().from_select(list(ENTRY_COLUMNS), select(*[src.c[c] for c in ENTRY_COLUMNS]))


@cache
def _transfers_stmt(transfers: Table):
    src = _unnest(TRANSFER_COLUMNS)
    names = [c for c in TRANSFER_COLUMNS if c != "metadata"]
    cols = [src.c[c] for c in names] + [cast(src.c.metadata, JSON), null(), null(), null(), null()]
    stmt = pg_insert(transfers).from_select(names + ["metadata", "pending_id", "reverses", "expires_at", "resolved_at"], select(*cols))
    return stmt.on_conflict_do_nothing(index_elements=["tenant_id", "idempotency_key"]).returning(transfers.c.id)


def _columns(rows: list[dict], names, convert=None) -> dict:
    convert = convert or {}
    return {n: [convert[n](r[n]) if n in convert else r[n] for r in rows] for n in names}


def insert_transfers_bulk(conn: Connection, t: LedgerTables, rows: list[dict]) -> int:
    """Posted transfers without holds or reversals; returns how many were new."""
    params = _columns(rows, TRANSFER_COLUMNS, {"metadata": lambda m: json.dumps(m, sort_keys=True)})
    return len(conn.execute(_transfers_stmt(t.transfers), params).all())


def insert_entries_bulk(conn: Connection, t: LedgerTables, rows: list[dict]) -> None:
    conn.execute(_entries_stmt(t.entries), _columns(rows, ENTRY_COLUMNS))
