"""The write path of the ledger: lock accounts in a fixed order, check, record, then update totals under a guard.

Accounts are locked in ascending id order (SELECT ... FOR UPDATE on
PostgreSQL; SQLite's single writer lock, taken by BEGIN IMMEDIATE, already
serializes writers), so two transfers touching the same accounts wait for
each other instead of deadlocking. Every refusal is decided on the locked
rows before anything is written. The guarded UPDATE repeats the overdraft
rule in SQL and the CHECK constraint repeats it again, so a mistake in one
layer cannot overdraw a wallet.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Iterable, Mapping

from sqlalchemy import Connection, Row, Table, bindparam, or_, select, update

from libs.platform.inbox import insert_ignoring_duplicates
from services.payment_factory.adapters.ledger_rows import balance_of, flags_of
from services.payment_factory.adapters.ledger_tables import LedgerTables
from services.payment_factory.domain.ledger import Leg
from services.payment_factory.domain.ledger_accounts import Balance
from services.payment_factory.domain.ledger_errors import CurrencyMismatch, InsufficientFunds, UnknownAccount


def lock_accounts(conn: Connection, t: LedgerTables, tenant_id: str, account_ids: Iterable[str], strict: bool = True) -> dict[str, Row]:
    """The tenant's accounts, locked in id order; an unknown id raises UnknownAccount unless `strict` is off (then it is left out)."""
    ids = sorted(set(account_ids))
    stmt = select(t.accounts).where(t.accounts.c.tenant_id == tenant_id, t.accounts.c.id.in_(ids)).order_by(t.accounts.c.id)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    rows = {row.id: row for row in conn.execute(stmt)}
    for account_id in ids:
        if strict and account_id not in rows:
            raise UnknownAccount(account_id)
    return rows


def check_currencies(rows: Mapping[str, Row], legs: Iterable[Leg]) -> None:
    for leg in legs:
        for account_id in (leg.debit_account, leg.credit_account):
            if rows[account_id].currency != leg.currency:
                raise CurrencyMismatch(account_id, rows[account_id].currency, leg.currency)


def check_funds(rows: Mapping[str, Row], deltas: Mapping[str, Balance]) -> None:
    for account_id in sorted(deltas):
        row = rows[account_id]
        flags, before = flags_of(row), balance_of(row)
        after = before + deltas[account_id]
        if after.violates(flags):
            available = before.headroom(flags) or 0
            raise InsufficientFunds(account_id, available=available, requested=available - (after.headroom(flags) or 0))


@cache
def _guarded_update(accounts: Table):
    a = accounts.c
    dp, cp, dq, cq = bindparam("dp"), bindparam("cp"), bindparam("dq"), bindparam("cq")
    return (
        update(accounts)
        .where(a.id == bindparam("aid"),
               or_(~a.debits_must_not_exceed_credits, a.debits_posted + dp + a.debits_pending + dq <= a.credits_posted + cp),
               or_(~a.credits_must_not_exceed_debits, a.credits_posted + cp + a.credits_pending + cq <= a.debits_posted + dp))
        .values(debits_posted=a.debits_posted + dp, credits_posted=a.credits_posted + cp,
                debits_pending=a.debits_pending + dq, credits_pending=a.credits_pending + cq)
        .returning(a.id)
    )


def apply_deltas(conn: Connection, t: LedgerTables, deltas: Mapping[str, Balance]) -> None:
    """Add each account's deltas; an account the guard refuses raises (the caller's transaction rolls back)."""
    stmt = _guarded_update(t.accounts)
    for account_id in sorted(deltas):
        d = deltas[account_id]
        if d == Balance():
            continue
        params = {"aid": account_id, "dp": d.debits_posted, "cp": d.credits_posted, "dq": d.debits_pending, "cq": d.credits_pending}
        if conn.execute(stmt, params).first() is None:
            # unreachable while check_funds ran on locked rows; kept so a locking mistake still refuses
            raise InsufficientFunds(account_id, available=0, requested=d.debits_posted + d.debits_pending)


def insert_transfer(conn: Connection, t: LedgerTables, row: dict) -> bool:
    """Insert unless the tenant already used the key; False means a concurrent twin won the race."""
    return bool(insert_ignoring_duplicates(conn, t.transfers, [row], ["tenant_id", "idempotency_key"]))


def insert_transfers(conn: Connection, t: LedgerTables, rows: list[dict]) -> int:
    """Insert many transfers; returns how many were new (fewer means a concurrent writer used a key first)."""
    return len(insert_ignoring_duplicates(conn, t.transfers, rows, ["tenant_id", "idempotency_key"]))


def insert_entries(conn: Connection, t: LedgerTables, tenant_id: str, transfer_id: str, legs: Iterable[Leg], pending: bool,
                   at: datetime) -> None:
    phase = "pending" if pending else "posted"
    rows = []
    for index, leg in enumerate(legs):
        for direction, account_id in (("D", leg.debit_account), ("C", leg.credit_account)):
            rows.append({"transfer_id": transfer_id, "leg": index, "direction": direction, "tenant_id": tenant_id,
                         "account_id": account_id, "currency": leg.currency, "amount": leg.amount_minor, "phase": phase,
                         "created_at": at})
    conn.execute(t.entries.insert(), rows)
