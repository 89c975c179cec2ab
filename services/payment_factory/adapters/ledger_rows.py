"""Reading ledger rows back into domain values, the same on PostgreSQL and SQLite.

SQLite keeps timestamps without a zone, so every time is written in UTC and
read back as UTC; PostgreSQL answers in the session's zone, also converted.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable

from sqlalchemy import Connection, Row, select

from services.payment_factory.adapters.ledger_tables import LedgerTables
from services.payment_factory.domain.ledger import Leg, Transfer, TransferStatus
from services.payment_factory.domain.ledger_accounts import Account, AccountFlags, AccountPurpose, Balance
from services.payment_factory.domain.ledger_errors import UnknownAccount, UnknownTransfer


def utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def flags_of(row: Row) -> AccountFlags:
    return AccountFlags(bool(row.debits_must_not_exceed_credits), bool(row.credits_must_not_exceed_debits))


def balance_of(row: Row) -> Balance:
    return Balance(int(row.debits_posted), int(row.credits_posted), int(row.debits_pending), int(row.credits_pending))


def account_of(row: Row) -> Account:
    return Account(id=row.id, tenant_id=row.tenant_id, code=row.code, purpose=AccountPurpose(row.purpose), currency=row.currency,
                   flags=flags_of(row), owner_type=row.owner_type, owner_id=row.owner_id, created_at=utc(row.created_at))


def load_account_row(conn: Connection, t: LedgerTables, tenant_id: str, account_id: str) -> Row:
    row = conn.execute(select(t.accounts).where(t.accounts.c.tenant_id == tenant_id, t.accounts.c.id == account_id)).first()
    if row is None:
        raise UnknownAccount(account_id)
    return row


def legs_of(entries: Iterable[Row]) -> tuple[Leg, ...]:
    """Pair each leg's debit and credit entries back into a Leg, in leg order."""
    sides: dict[int, dict[str, Any]] = {}
    for e in entries:
        sides.setdefault(e.leg, {})[e.direction] = e
    return tuple(Leg(s["D"].account_id, s["C"].account_id, int(s["D"].amount), s["D"].currency) for _, s in sorted(sides.items()))


def transfer_of(row: Row, legs: tuple[Leg, ...], replayed: bool = False) -> Transfer:
    return Transfer(id=row.id, tenant_id=row.tenant_id, idempotency_key=row.idempotency_key, status=TransferStatus(row.status),
                    is_hold=bool(row.is_hold), legs=legs, created_at=utc(row.created_at), metadata=row.metadata or {},
                    pending_id=row.pending_id, reverses=row.reverses, expires_at=utc(row.expires_at),
                    resolved_at=utc(row.resolved_at), replayed=replayed)


def load_transfer(conn: Connection, t: LedgerTables, tenant_id: str, transfer_id: str, replayed: bool = False) -> Transfer:
    row = conn.execute(select(t.transfers).where(t.transfers.c.tenant_id == tenant_id, t.transfers.c.id == transfer_id)).first()
    if row is None:
        raise UnknownTransfer(transfer_id)
    entries = conn.execute(select(t.entries).where(t.entries.c.transfer_id == transfer_id)).all()
    return transfer_of(row, legs_of(entries), replayed)


def find_by_key(conn: Connection, t: LedgerTables, tenant_id: str, key: str) -> Row | None:
    stmt = select(t.transfers.c.id, t.transfers.c.body_hash).where(t.transfers.c.tenant_id == tenant_id,
                                                                   t.transfers.c.idempotency_key == key)
    return conn.execute(stmt).first()
