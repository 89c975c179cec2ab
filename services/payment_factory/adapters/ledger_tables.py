"""Ledger tables: accounts with running totals, transfers, and one entry per leg side.

Defined by a factory on a given MetaData (like `inbox_table`) so the
composition root decides where they live. The CHECK constraints are the last
line of defence behind the adapter's locking and guarded updates: even a
buggy or hand-written UPDATE cannot overdraw a flagged account. The composite
foreign key (account_id, currency) makes the database refuse an entry in a
currency its account does not keep.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, Column, DateTime, ForeignKey, ForeignKeyConstraint, Index, MetaData,
                        PrimaryKeyConstraint, SmallInteger, String, Table, UniqueConstraint, literal_column, text)

_OWNER = "services.payment_factory.adapters.ledger_tables"


@dataclass(frozen=True)
class LedgerTables:
    accounts: Table
    transfers: Table
    entries: Table


def ledger_tables(metadata: MetaData) -> LedgerTables:
    """The three ledger tables on `metadata`, defined on first call and returned as they are afterwards."""
    existing = metadata.tables.get("ledger_accounts")
    if existing is not None and existing.info.get("owner") == _OWNER:
        return LedgerTables(existing, metadata.tables["ledger_transfers"], metadata.tables["ledger_entries"])
    return LedgerTables(_accounts(metadata), _transfers(metadata), _entries(metadata))


def _accounts(metadata: MetaData) -> Table:
    return Table(
        "ledger_accounts", metadata,
        Column("id", String(64), primary_key=True),
        Column("tenant_id", String(64), nullable=False),
        Column("code", String(200), nullable=False),
        Column("purpose", String(40), nullable=False),
        Column("currency", String(3), nullable=False),
        Column("owner_type", String(40)),
        Column("owner_id", String(64)),
        Column("debits_must_not_exceed_credits", Boolean, nullable=False),
        Column("credits_must_not_exceed_debits", Boolean, nullable=False),
        Column("debits_posted", BigInteger, nullable=False),
        Column("credits_posted", BigInteger, nullable=False),
        Column("debits_pending", BigInteger, nullable=False),
        Column("credits_pending", BigInteger, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        UniqueConstraint("tenant_id", "code", name="uq_ledger_accounts_tenant_code"),
        UniqueConstraint("id", "currency", name="uq_ledger_accounts_id_currency"),
        CheckConstraint("debits_posted >= 0 AND credits_posted >= 0 AND debits_pending >= 0 AND credits_pending >= 0",
                        name="totals_non_negative"),
        CheckConstraint("NOT (debits_must_not_exceed_credits AND credits_must_not_exceed_debits)", name="one_limit"),
        CheckConstraint("NOT debits_must_not_exceed_credits OR debits_posted + debits_pending <= credits_posted",
                        name="debits_within_credits"),
        CheckConstraint("NOT credits_must_not_exceed_debits OR credits_posted + credits_pending <= debits_posted",
                        name="credits_within_debits"),
        info={"owner": _OWNER},
    )


def _where(condition: str) -> dict:
    return {"postgresql_where": text(condition), "sqlite_where": text(condition)}


PENDING = literal_column("'pending'")  # a literal, not a parameter: a prepared statement's plan can then use the partial index


def _transfers(metadata: MetaData) -> Table:
    return Table(
        "ledger_transfers", metadata,
        Column("id", String(64), primary_key=True),
        Column("tenant_id", String(64), nullable=False),
        Column("idempotency_key", String(200), nullable=False),
        Column("body_hash", String(64), nullable=False),
        Column("status", String(10), nullable=False),
        Column("is_hold", Boolean, nullable=False),
        Column("pending_id", String(64), ForeignKey("ledger_transfers.id")),
        Column("reverses", String(64), ForeignKey("ledger_transfers.id")),
        Column("expires_at", DateTime(timezone=True)),
        Column("resolved_at", DateTime(timezone=True)),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("metadata", JSON, nullable=False),
        UniqueConstraint("tenant_id", "idempotency_key", name="uq_ledger_transfers_tenant_key"),
        CheckConstraint("status IN ('posted', 'pending', 'voided', 'expired')", name="status_known"),
        CheckConstraint("is_hold OR status = 'posted'", name="only_holds_pend"),
        # partial: plain posted transfers (nearly all rows) maintain none of these three (migration 0007)
        Index("ix_ledger_transfers_pending", "tenant_id", "expires_at", **_where("status = 'pending'")),
        Index("ix_ledger_transfers_pending_id", "pending_id", **_where("pending_id IS NOT NULL")),
        Index("ix_ledger_transfers_reverses", "reverses", **_where("reverses IS NOT NULL")),
    )


def _entries(metadata: MetaData) -> Table:
    return Table(
        "ledger_entries", metadata,
        Column("transfer_id", String(64), ForeignKey("ledger_transfers.id"), nullable=False),
        Column("leg", SmallInteger, nullable=False),
        Column("direction", String(1), nullable=False),
        Column("tenant_id", String(64), nullable=False),
        Column("account_id", String(64), nullable=False),
        Column("currency", String(3), nullable=False),
        Column("amount", BigInteger, nullable=False),
        Column("phase", String(7), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        PrimaryKeyConstraint("transfer_id", "leg", "direction", name="pk_ledger_entries"),
        ForeignKeyConstraint(["account_id", "currency"], ["ledger_accounts.id", "ledger_accounts.currency"],
                             name="fk_ledger_entries_account_currency"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("direction IN ('D', 'C')", name="direction_known"),
        CheckConstraint("phase IN ('posted', 'pending')", name="phase_known"),
        Index("ix_ledger_entries_account_at", "account_id", "created_at"),
    )
