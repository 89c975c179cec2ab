"""Gap-free invoice numbers: a counter row per tenant and range, advanced inside the issuing transaction.

The row lock (PostgreSQL: the UPDATE itself; SQLite: the writer lock) makes
concurrent issuers wait for each other, and because the number is taken in
the same transaction that stores the invoice, a rollback returns it: no gaps,
no duplicates.
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from libs.platform.inbox import insert_ignoring_duplicates
from services.invoice_factory.adapters.tables import number_ranges


def next_number(conn: Connection, tenant_id: str, range_key: str, prefix: str) -> str:
    insert_ignoring_duplicates(conn, number_ranges, [{"tenant_id": tenant_id, "range_key": range_key, "prefix": prefix, "next_value": 1}], ["tenant_id", "range_key"])
    row = conn.execute(
        update(number_ranges)
        .where(number_ranges.c.tenant_id == tenant_id, number_ranges.c.range_key == range_key)
        .values(next_value=number_ranges.c.next_value + 1)
        .returning(number_ranges.c.next_value, number_ranges.c.prefix)
    ).one()
    return f"{row.prefix}{row.next_value - 1:06d}"


def peek(conn: Connection, tenant_id: str, range_key: str) -> int:
    value = conn.execute(select(number_ranges.c.next_value).where(number_ranges.c.tenant_id == tenant_id, number_ranges.c.range_key == range_key)).scalar()
    return int(value or 1)
