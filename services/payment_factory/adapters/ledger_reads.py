"""Ledger queries that change nothing: an account's balance and its statement over a time range."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, case, func, select

from services.payment_factory.adapters.ledger_rows import balance_of, load_account_row, utc
from services.payment_factory.adapters.ledger_tables import LedgerTables
from services.payment_factory.domain.ledger_accounts import Balance
from services.payment_factory.domain.ledger_statements import Statement, StatementLine


def balance(conn: Connection, t: LedgerTables, tenant_id: str, account_id: str) -> Balance:
    return balance_of(load_account_row(conn, t, tenant_id, account_id))


def _signed(e, direction: str):
    return func.coalesce(func.sum(case((e.direction == direction, e.amount), else_=0)), 0)


def statement(conn: Connection, t: LedgerTables, tenant_id: str, account_id: str, start: datetime, end: datetime) -> Statement:
    """Posted movements in [start, end), one line per transfer, after the totals posted before start."""
    load_account_row(conn, t, tenant_id, account_id)
    e, tr = t.entries.c, t.transfers.c
    start, end = utc(start), utc(end)
    posted = (e.tenant_id == tenant_id) & (e.account_id == account_id) & (e.phase == "posted")
    before = conn.execute(select(_signed(e, "D"), _signed(e, "C")).where(posted, e.created_at < start)).one()
    per_transfer = (select(e.transfer_id, _signed(e, "D").label("debit"), _signed(e, "C").label("credit"))
                    .where(posted, e.created_at >= start, e.created_at < end).group_by(e.transfer_id).subquery())
    rows = conn.execute(select(tr.id, tr.created_at, tr["metadata"], per_transfer.c.debit, per_transfer.c.credit)
                        .join(per_transfer, per_transfer.c.transfer_id == tr.id).order_by(tr.created_at, tr.id))
    lines = tuple(StatementLine(r.id, utc(r.created_at), int(r.debit), int(r.credit), r.metadata or {}) for r in rows)
    return Statement(account_id, start, end, Balance(debits_posted=int(before[0]), credits_posted=int(before[1])), lines)
