"""Many posted transfers in one transaction with a handful of statements: the ledger's throughput path.

One transfer through SqlLedger.transfer costs about six statements; at a
few thousand transfers a second the round trips and per-statement Python
work, not PostgreSQL, are the limit. Here a batch of requests (posted, not
holds or reversals) is decided together: one lookup of prior keys, one lock
of every touched account in id order (so batches never deadlock each other),
the overdraft rules applied in request order on running totals in memory,
then one multi-row insert of transfers, one of entries and one guarded
update per account. Each request is accepted or refused on its own; a
refused one writes nothing. The CHECK constraints still stand behind it.
"""

from __future__ import annotations

from typing import Sequence

from sqlalchemy import Connection, select

from libs.clock import Clock
from libs.ids import new_id
from services.payment_factory.adapters.ledger_bulk import insert_entries_bulk, insert_transfers_bulk
from services.payment_factory.adapters.ledger_rows import balance_of, flags_of, utc
from services.payment_factory.adapters.ledger_tables import LedgerTables
from services.payment_factory.adapters.ledger_writes import apply_deltas_at_once, insert_transfers, lock_accounts
from services.payment_factory.domain.ledger import Transfer, TransferRequest, TransferStatus, account_deltas
from services.payment_factory.domain.ledger_accounts import Balance
from services.payment_factory.domain.ledger_errors import (CurrencyMismatch, IdempotencyConflict, InsufficientFunds, InvalidTransfer,
                                                           LedgerError, UnknownAccount)


class BatchRetry(Exception):
    """A concurrent writer committed one of the batch's keys first; roll back and run the batch again."""


def transfer_batch(conn: Connection, t: LedgerTables, clock: Clock, tenant_id: str,
                   requests: Sequence[TransferRequest]) -> list[Transfer | LedgerError]:
    """One result per request, in order: the Transfer (a replay returns the original) or the error that refused it."""
    for r in requests:
        if r.pending or r.reverses:
            raise InvalidTransfer("the batch path posts plain transfers; holds and reversals go through SqlLedger")
    tr = t.transfers.c
    keys = [r.idempotency_key for r in requests]
    prior = {row.idempotency_key: row for row in conn.execute(
        select(tr.id, tr.idempotency_key, tr.body_hash, tr.created_at, tr.metadata).where(tr.tenant_id == tenant_id, tr.idempotency_key.in_(keys)))}
    touched = {a for r in requests for leg in r.legs for a in (leg.debit_account, leg.credit_account)}
    try:
        rows = lock_accounts(conn, t, tenant_id, touched)
    except UnknownAccount:
        found = conn.execute(select(t.accounts.c.id).where(t.accounts.c.tenant_id == tenant_id, t.accounts.c.id.in_(touched))).scalars()
        rows = lock_accounts(conn, t, tenant_id, set(found))
    running = {aid: balance_of(row) for aid, row in rows.items()}
    now = clock.now()
    results: list[Transfer | LedgerError] = []
    accepted: dict[str, tuple[str, Transfer]] = {}
    transfer_rows: list[dict] = []
    entry_rows: list[dict] = []
    total: dict[str, Balance] = {}
    for r in requests:
        digest = r.body_hash()
        earlier = prior.get(r.idempotency_key) or accepted.get(r.idempotency_key)
        if earlier is not None:
            earlier_hash = earlier[0] if isinstance(earlier, tuple) else earlier.body_hash
            if earlier_hash != digest:
                results.append(IdempotencyConflict(r.idempotency_key))
            elif isinstance(earlier, tuple):
                results.append(earlier[1])
            else:
                results.append(Transfer(earlier.id, tenant_id, r.idempotency_key, TransferStatus.POSTED, False, r.legs,
                                        utc(earlier.created_at), earlier.metadata or {}, replayed=True))
            continue
        error = _refusal(r, rows, running)
        if error is not None:
            results.append(error)
            continue
        deltas = account_deltas(r.legs, pending=False)
        for aid, d in deltas.items():
            running[aid] = running[aid] + d
            total[aid] = total.get(aid, Balance()) + d
        transfer = Transfer(new_id("trf"), tenant_id, r.idempotency_key, TransferStatus.POSTED, False, r.legs, now, dict(r.metadata))
        accepted[r.idempotency_key] = (digest, transfer)
        results.append(transfer)
        transfer_rows.append({"id": transfer.id, "tenant_id": tenant_id, "idempotency_key": r.idempotency_key, "body_hash": digest,
                              "status": "posted", "is_hold": False, "pending_id": None, "reverses": None, "expires_at": None,
                              "resolved_at": None, "created_at": now, "metadata": transfer.metadata})
        for index, leg in enumerate(r.legs):
            for direction, aid in (("D", leg.debit_account), ("C", leg.credit_account)):
                entry_rows.append({"transfer_id": transfer.id, "leg": index, "direction": direction, "tenant_id": tenant_id,
                                   "account_id": aid, "currency": leg.currency, "amount": leg.amount_minor, "phase": "posted",
                                   "created_at": now})
    if transfer_rows:
        postgres = conn.dialect.name == "postgresql"
        inserted = insert_transfers_bulk(conn, t, transfer_rows) if postgres else insert_transfers(conn, t, transfer_rows)
        if inserted != len(transfer_rows):
            raise BatchRetry()
        if postgres:
            insert_entries_bulk(conn, t, entry_rows)
        else:
            conn.execute(t.entries.insert(), entry_rows)
        apply_deltas_at_once(conn, t, total)
    return results


def _refusal(r: TransferRequest, rows, running: dict[str, Balance]) -> LedgerError | None:
    """Why this request cannot be posted on top of what the batch accepted so far, or None."""
    for leg in r.legs:
        for aid in (leg.debit_account, leg.credit_account):
            if aid not in rows:
                return UnknownAccount(aid)
            if rows[aid].currency != leg.currency:
                return CurrencyMismatch(aid, rows[aid].currency, leg.currency)
    for aid, d in sorted(account_deltas(r.legs, pending=False).items()):
        flags = flags_of(rows[aid])
        after = running[aid] + d
        if after.violates(flags):
            available = running[aid].headroom(flags) or 0
            return InsufficientFunds(aid, available=available, requested=available - (after.headroom(flags) or 0))
    return None
