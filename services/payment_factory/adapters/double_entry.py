"""Double-entry ledger in SQL (PostgreSQL or SQLite) through SQLAlchemy Core.

Every transfer has legs; each leg debits one account and credits another by
the same amount, so every transfer balances by construction. Transfers and
entries are append-only; a correction is a reversing transfer. Accounts keep
running totals, updated in the same transaction as the entries, after the
accounts are locked in a fixed order (no deadlocks). An account flagged
`no_overdraft` refuses a debit beyond its credits: a guarded UPDATE checks it
under the lock and a CHECK constraint is the last line of defence.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, Column, Connection, DateTime, ForeignKey, Index, String, Table,
                        UniqueConstraint, func, select, update)

from libs.ids import new_id
from libs.money import check_currency
from libs.platform.inbox import insert_ignoring_duplicates
from services.payment_factory.adapters.metadata import metadata

accounts = Table(
    "ledger_accounts", metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("code", String(200), nullable=False),
    Column("purpose", String(40), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("no_overdraft", Boolean, nullable=False),
    Column("debits_posted", BigInteger, nullable=False),
    Column("credits_posted", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "code", name="uq_ledger_accounts_tenant_code"),
    CheckConstraint("debits_posted >= 0 AND credits_posted >= 0", name="totals_non_negative"),
    CheckConstraint("NOT no_overdraft OR debits_posted <= credits_posted", name="no_overdraft"),
)

transfers = Table(
    "ledger_transfers", metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("idempotency_key", String(200), nullable=False),
    Column("body_hash", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("reverses", String(64)),
    Column("meta", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "idempotency_key", name="uq_ledger_transfers_key"),
)

entries = Table(
    "ledger_entries", metadata,
    Column("id", String(64), primary_key=True),
    Column("transfer_id", String(64), ForeignKey("ledger_transfers.id"), nullable=False),
    Column("tenant_id", String(64), nullable=False),
    Column("account_id", String(64), ForeignKey("ledger_accounts.id"), nullable=False),
    Column("debit", BigInteger, nullable=False),
    Column("credit", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("debit >= 0 AND credit >= 0 AND (debit = 0) <> (credit = 0)", name="one_side"),
    Index("ix_ledger_entries_account", "account_id", "created_at"),
)


class LedgerError(Exception):
    pass


class InsufficientFunds(LedgerError):
    def __init__(self, account_id: str):
        super().__init__(f"account {account_id} may not be overdrawn")
        self.account_id = account_id


class IdempotencyConflict(LedgerError):
    """The idempotency key was used before with a different transfer."""


class CurrencyMismatch(LedgerError):
    pass


@dataclass(frozen=True)
class Leg:
    debit: str  # account id
    credit: str
    amount: int

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or self.amount <= 0:
            raise LedgerError("a leg moves a positive integer amount")
        if self.debit == self.credit:
            raise LedgerError("a leg needs two different accounts")


def open_account(conn: Connection, tenant_id: str, code: str, purpose: str, currency: str, no_overdraft: bool = False) -> str:
    """The account with this code, created on first use (idempotent)."""
    check_currency(currency)
    found = conn.execute(select(accounts.c.id, accounts.c.currency).where(accounts.c.tenant_id == tenant_id, accounts.c.code == code)).first()
    if found:
        if found.currency != currency:
            raise CurrencyMismatch(f"account {code} is in {found.currency}")
        return found.id
    insert_ignoring_duplicates(conn, accounts, [{
        "id": new_id("acc"), "tenant_id": tenant_id, "code": code, "purpose": purpose, "currency": currency,
        "no_overdraft": no_overdraft, "debits_posted": 0, "credits_posted": 0, "created_at": datetime.now(timezone.utc),
    }], ["tenant_id", "code"])
    return conn.execute(select(accounts.c.id).where(accounts.c.tenant_id == tenant_id, accounts.c.code == code)).scalar_one()


def _hash(currency: str, legs: list[Leg], reverses: str | None) -> str:
    body = [currency, reverses, [(l.debit, l.credit, l.amount) for l in legs]]
    return hashlib.sha256(json.dumps(body).encode()).hexdigest()


def transfer(conn: Connection, tenant_id: str, idempotency_key: str, currency: str, legs: list[Leg],
             meta: dict[str, Any] | None = None, reverses: str | None = None) -> str:
    """Post all legs atomically (the caller's transaction); returns the transfer id, the original one on a repeat."""
    if not legs:
        raise LedgerError("a transfer needs at least one leg")
    digest = _hash(currency, legs, reverses)
    prior = conn.execute(select(transfers.c.id, transfers.c.body_hash).where(transfers.c.tenant_id == tenant_id, transfers.c.idempotency_key == idempotency_key)).first()
    if prior:
        if prior.body_hash != digest:
            raise IdempotencyConflict(idempotency_key)
        return prior.id
    ids = sorted({l.debit for l in legs} | {l.credit for l in legs})
    lock = select(accounts.c.id, accounts.c.currency, accounts.c.tenant_id).where(accounts.c.id.in_(ids)).order_by(accounts.c.id)
    if conn.dialect.name == "postgresql":
        lock = lock.with_for_update()
    rows = {r.id: r for r in conn.execute(lock)}
    for account_id in ids:
        row = rows.get(account_id)
        if row is None or row.tenant_id != tenant_id:
            raise LedgerError(f"unknown account {account_id}")
        if row.currency != currency:
            raise CurrencyMismatch(f"account {account_id} is in {row.currency}, the transfer in {currency}")
    now = datetime.now(timezone.utc)
    transfer_id = new_id("trf")
    conn.execute(transfers.insert().values(id=transfer_id, tenant_id=tenant_id, idempotency_key=idempotency_key, body_hash=digest,
                                           currency=currency, reverses=reverses, meta=meta or {}, created_at=now))
    debit_totals: dict[str, int] = {}
    credit_totals: dict[str, int] = {}
    rows_out = []
    for leg in legs:
        debit_totals[leg.debit] = debit_totals.get(leg.debit, 0) + leg.amount
        credit_totals[leg.credit] = credit_totals.get(leg.credit, 0) + leg.amount
        rows_out.append({"id": new_id("ent"), "transfer_id": transfer_id, "tenant_id": tenant_id, "account_id": leg.debit, "debit": leg.amount, "credit": 0, "created_at": now})
        rows_out.append({"id": new_id("ent"), "transfer_id": transfer_id, "tenant_id": tenant_id, "account_id": leg.credit, "debit": 0, "credit": leg.amount, "created_at": now})
    conn.execute(entries.insert(), rows_out)
    for account_id in ids:
        d, c = debit_totals.get(account_id, 0), credit_totals.get(account_id, 0)
        guarded = conn.execute(
            update(accounts).where(accounts.c.id == account_id,
                                   (~accounts.c.no_overdraft) | (accounts.c.debits_posted + d <= accounts.c.credits_posted + c))
            .values(debits_posted=accounts.c.debits_posted + d, credits_posted=accounts.c.credits_posted + c)
        )
        if guarded.rowcount != 1:
            raise InsufficientFunds(account_id)
    return transfer_id


def reverse(conn: Connection, tenant_id: str, transfer_id: str, idempotency_key: str, meta: dict[str, Any] | None = None) -> str:
    """A correction: the same legs with debit and credit swapped, pointing at the original."""
    original = conn.execute(select(transfers).where(transfers.c.tenant_id == tenant_id, transfers.c.id == transfer_id)).first()
    if original is None:
        raise LedgerError(f"unknown transfer {transfer_id}")
    rows = conn.execute(select(entries).where(entries.c.transfer_id == transfer_id).order_by(entries.c.id)).all()
    debits = [r for r in rows if r.debit]
    credits = [r for r in rows if r.credit]
    legs = [Leg(c.account_id, d.account_id, d.debit) for d, c in zip(debits, credits)]
    return transfer(conn, tenant_id, idempotency_key, original.currency, legs, meta, reverses=transfer_id)


def balance(conn: Connection, account_id: str) -> tuple[int, int]:
    """(debits, credits) posted on the account."""
    row = conn.execute(select(accounts.c.debits_posted, accounts.c.credits_posted).where(accounts.c.id == account_id)).one()
    return int(row.debits_posted), int(row.credits_posted)


def account_entries(conn: Connection, account_id: str) -> list[dict[str, Any]]:
    """The account's movements, one per transfer (a multi-leg transfer shows once, with its total)."""
    totals = (select(entries.c.transfer_id, func.sum(entries.c.debit).label("debit"), func.sum(entries.c.credit).label("credit"))
              .where(entries.c.account_id == account_id).group_by(entries.c.transfer_id).subquery())
    rows = conn.execute(select(transfers.c.id, transfers.c.created_at, transfers.c.meta, totals.c.debit, totals.c.credit)
                        .join(totals, totals.c.transfer_id == transfers.c.id).order_by(transfers.c.created_at, transfers.c.id))
    return [{"transfer_id": r.id, "created_at": r.created_at, "meta": r.meta, "debit": int(r.debit), "credit": int(r.credit)} for r in rows]


def invariant_violations(conn: Connection, tenant_id: str) -> list[str]:
    """Per currency all balances sum to zero; every account's totals equal the sum of its entries."""
    problems = []
    for currency, d, c in conn.execute(select(accounts.c.currency, func.sum(accounts.c.debits_posted), func.sum(accounts.c.credits_posted))
                                       .where(accounts.c.tenant_id == tenant_id).group_by(accounts.c.currency)):
        if int(d or 0) != int(c or 0):
            problems.append(f"{currency}: debits {d} != credits {c}")
    sums = {r.account_id: (int(r.d), int(r.c)) for r in conn.execute(
        select(entries.c.account_id, func.sum(entries.c.debit).label("d"), func.sum(entries.c.credit).label("c"))
        .where(entries.c.tenant_id == tenant_id).group_by(entries.c.account_id))}
    for row in conn.execute(select(accounts).where(accounts.c.tenant_id == tenant_id)):
        if sums.get(row.id, (0, 0)) != (int(row.debits_posted), int(row.credits_posted)):
            problems.append(f"account {row.code}: totals {row.debits_posted}/{row.credits_posted} != entries {sums.get(row.id)}")
        if row.no_overdraft and row.debits_posted > row.credits_posted:
            problems.append(f"account {row.code} is overdrawn")
    return problems
