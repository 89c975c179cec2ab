"""Many posted transfers in one transaction with a handful of statements: the ledger's throughput path.

One transfer through SqlLedger.transfer costs about six statements; at a
few thousand transfers a second the round trips and per-statement Python
work, not PostgreSQL, are the limit. Here a batch of requests (posted, not
holds or reversals) is decided together: one lookup of prior keys, one lock
of every touched account in id order (so batches never deadlock each other),
the overdraft rules applied in request order on running totals in memory,
then on PostgreSQL one statement that inserts the transfers and their entries
and applies one guarded update per account (`ledger_bulk.post_batch`); on
SQLite the same writes as plain statements. Each request is accepted or
refused on its own; a refused one writes nothing. The guarded update and the
CHECK constraints still stand behind the decision made here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Sequence

from sqlalchemy import Connection, String, Table, any_, bindparam, column, func, select, true
from sqlalchemy.dialects.postgresql import ARRAY

from libs.clock import Clock
from libs.ids import new_id
from services.payment_factory.adapters.ledger_bulk import post_batch
from services.payment_factory.adapters.ledger_rows import balance_of, flags_of, utc
from services.payment_factory.adapters.ledger_tables import LedgerTables
from services.payment_factory.adapters.ledger_writes import apply_deltas, insert_transfers, lock_accounts
from services.payment_factory.domain.ledger import Transfer, TransferRequest, TransferStatus
from services.payment_factory.domain.ledger_accounts import Balance
from services.payment_factory.domain.ledger_errors import (CurrencyMismatch, IdempotencyConflict, InsufficientFunds, InvalidTransfer,
                                                           LedgerError, UnknownAccount)


class BatchRetry(Exception):
    """A concurrent writer committed one of the batch's keys first; roll back and run the batch again."""


@cache
def _prior_stmt(transfers: Table):
    """The batch's keys already recorded, looked up one key at a time (a LATERAL probe of the unique (tenant, key) index).

    Written as `... = ANY(:keys)` PostgreSQL once planned it, on a table it had no statistics for yet, as a scan of
    every transfer of the tenant filtered by the keys: milliseconds that grew with the table. A probe per key leaves
    the planner only the unique index, whatever it believes about the table; the text stays the same whatever the
    batch size, so psycopg prepares it once.
    """
    tr = transfers.c
    wanted = func.unnest(bindparam("keys", type_=ARRAY(String))).table_valued(column("key", String)).render_derived(name="wanted")
    found = (select(tr.id, tr.idempotency_key, tr.body_hash, tr.created_at, tr.metadata)
             .where(tr.tenant_id == bindparam("tenant_id"), tr.idempotency_key == wanted.c.key).limit(1).lateral("found"))
    return select(found).select_from(wanted.join(found, true()))


@cache
def _lock_stmt(t: LedgerTables):
    """One round trip: the touched accounts locked in id order (`id = ANY(:ids) ORDER BY id FOR UPDATE`), each row also
    carrying, as one JSON array computed once (an uncorrelated subquery), the batch's keys already recorded.

    Accounts are never deleted, so a batch holding a replay always locks at least one row: no row, no replay.
    The tenant is compared as `tenant_id || ''`, a filter on the rows the primary key found and never an index
    condition: with tenant_id indexable, PostgreSQL planned this (on a table without statistics yet) as a scan of
    every account of the tenant through (tenant_id, code), filtered by id.
    """
    a = t.accounts.c
    found = _prior_stmt(t.transfers).subquery("prior")
    prior = select(func.json_agg(func.json_build_array(found.c.id, found.c.idempotency_key, found.c.body_hash, found.c.created_at,
                                                       found.c.metadata))).scalar_subquery()
    return (select(t.accounts, prior.label("prior_keys"))
            .where(a.id == any_(bindparam("ids", type_=ARRAY(String))), a.tenant_id.concat("") == bindparam("tenant_id"))
            .order_by(a.id).with_for_update(of=t.accounts))


@dataclass(frozen=True)
class _Prior:  # not a tuple: transfer_batch tells a recorded key from one accepted earlier in the batch by that
    id: str
    idempotency_key: str
    body_hash: str
    created_at: datetime
    metadata: dict


def _prior_and_locked(conn: Connection, t: LedgerTables, tenant_id: str, keys: list[str], account_ids: set[str]) -> tuple[dict, dict]:
    """The batch's keys already recorded, and the existing touched accounts locked in id order."""
    tr = t.transfers.c
    if conn.dialect.name != "postgresql":
        prior = conn.execute(select(tr.id, tr.idempotency_key, tr.body_hash, tr.created_at, tr.metadata)
                             .where(tr.tenant_id == tenant_id, tr.idempotency_key.in_(keys)))
        return {row.idempotency_key: row for row in prior}, lock_accounts(conn, t, tenant_id, account_ids, strict=False)
    rows = conn.execute(_lock_stmt(t), {"tenant_id": tenant_id, "ids": sorted(account_ids), "keys": keys}).all()
    recorded = (rows[0].prior_keys or []) if rows else []
    prior = {key: _Prior(tid, key, digest, datetime.fromisoformat(at), meta) for tid, key, digest, at, meta in recorded}
    return prior, {row.id: row for row in rows}


def _net(request: TransferRequest) -> dict[str, list[int]]:
    """Each account's net posted [debits, credits] of one request (the batch path posts, it never holds)."""
    net: dict[str, list[int]] = {}
    for leg in request.legs:
        net.setdefault(leg.debit_account, [0, 0])[0] += leg.amount_minor
        net.setdefault(leg.credit_account, [0, 0])[1] += leg.amount_minor
    return net


def transfer_batch(conn: Connection, t: LedgerTables, clock: Clock, tenant_id: str,
                   requests: Sequence[TransferRequest]) -> list[Transfer | LedgerError]:
    """One result per request, in order: the Transfer (a replay returns the original) or the error that refused it."""
    for r in requests:
        if r.pending or r.reverses:
            raise InvalidTransfer("the batch path posts plain transfers; holds and reversals go through SqlLedger")
    prior, rows = _prior_and_locked(conn, t, tenant_id, [r.idempotency_key for r in requests],
                                    {a for r in requests for leg in r.legs for a in (leg.debit_account, leg.credit_account)})
    limited = {aid: flags_of(row) for aid, row in rows.items()
               if row.debits_must_not_exceed_credits or row.credits_must_not_exceed_debits}
    accepted_so_far: dict[str, list[int]] = {}  # account -> posted [debits, credits] the batch accepted before this request
    now = clock.now()
    results: list[Transfer | LedgerError] = []
    accepted: dict[str, tuple[str, Transfer]] = {}
    transfer_rows: list[tuple] = []
    leg_rows: list[tuple] = []
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
        net = _net(r)
        error = _refusal(r, rows, limited, accepted_so_far, net)
        if error is not None:
            results.append(error)
            continue
        after: dict[str, Balance] = {}
        for aid, (dp, cp) in net.items():
            total = accepted_so_far.setdefault(aid, [0, 0])
            total[0] += dp
            total[1] += cp
            after[aid] = balance_of(rows[aid]) + Balance(debits_posted=total[0], credits_posted=total[1])
        transfer = Transfer(new_id("trf"), tenant_id, r.idempotency_key, TransferStatus.POSTED, False, r.legs, now, dict(r.metadata),
                            balances_after=after)
        accepted[r.idempotency_key] = (digest, transfer)
        results.append(transfer)
        transfer_rows.append((transfer.id, r.idempotency_key, digest, transfer.metadata))
        leg_rows.extend((transfer.id, index, leg.debit_account, leg.credit_account, leg.currency, leg.amount_minor)
                        for index, leg in enumerate(r.legs))
    if transfer_rows:
        deltas = {aid: (dp, cp) for aid, (dp, cp) in accepted_so_far.items() if dp or cp}
        if conn.dialect.name == "postgresql":
            inserted, entries, updated = post_batch(conn, t, tenant_id, now, transfer_rows, leg_rows, deltas)
            if inserted != len(transfer_rows):
                raise BatchRetry()
            # both unreachable while the decision above ran on locked rows; raising rolls the caller's transaction back
            for aid in sorted(set(deltas) - updated):
                raise InsufficientFunds(aid, available=0, requested=deltas[aid][0])
            if entries != 2 * len(leg_rows):
                raise RuntimeError(f"batch wrote {entries} entries for {len(leg_rows)} legs")
        else:
            _write_plain(conn, t, tenant_id, now, transfer_rows, leg_rows, deltas)
    return results


def _write_plain(conn: Connection, t: LedgerTables, tenant_id: str, now, transfer_rows: list[tuple], leg_rows: list[tuple],
                 deltas: dict[str, tuple[int, int]]) -> None:
    """The same writes as post_batch as ordinary statements (SQLite)."""
    inserted = insert_transfers(conn, t, [
        {"id": tid, "tenant_id": tenant_id, "idempotency_key": key, "body_hash": digest, "status": "posted", "is_hold": False,
         "pending_id": None, "reverses": None, "expires_at": None, "resolved_at": None, "created_at": now, "metadata": metadata}
        for tid, key, digest, metadata in transfer_rows])
    if inserted != len(transfer_rows):
        raise BatchRetry()
    conn.execute(t.entries.insert(), [
        {"transfer_id": tid, "leg": index, "direction": direction, "tenant_id": tenant_id, "account_id": aid, "currency": currency,
         "amount": amount, "phase": "posted", "created_at": now}
        for tid, index, debit, credit, currency, amount in leg_rows for direction, aid in (("D", debit), ("C", credit))])
    apply_deltas(conn, t, {aid: Balance(debits_posted=dp, credits_posted=cp) for aid, (dp, cp) in deltas.items()})


def _refusal(r: TransferRequest, rows, limited, accepted_so_far: dict[str, list[int]], net: dict[str, list[int]]) -> LedgerError | None:
    """Why this request cannot be posted on top of what the batch accepted so far, or None."""
    for leg in r.legs:
        for aid in (leg.debit_account, leg.credit_account):
            if aid not in rows:
                return UnknownAccount(aid)
            if rows[aid].currency != leg.currency:
                return CurrencyMismatch(aid, rows[aid].currency, leg.currency)
    for aid in sorted(net):
        flags = limited.get(aid)
        if flags is None:
            continue  # an account without an overdraft rule takes any amount
        so_far = accepted_so_far.get(aid, (0, 0))
        before = balance_of(rows[aid]) + Balance(debits_posted=so_far[0], credits_posted=so_far[1])
        after = before + Balance(debits_posted=net[aid][0], credits_posted=net[aid][1])
        if after.violates(flags):
            available = before.headroom(flags) or 0
            return InsufficientFunds(aid, available=available, requested=available - (after.headroom(flags) or 0))
    return None
