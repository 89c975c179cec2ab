"""SqlLedger: the double-entry ledger on PostgreSQL or SQLite through SQLAlchemy Core.

Every method takes a Connection already inside the caller's transaction and
never commits: the unit of work decides. A method either raises a typed
LedgerError before writing anything, or does all its writes; should a
write fail afterwards (a database error), the caller must roll back, which
its unit of work does. Transfers and entries are append-only; only a hold's
status moves on (pending -> posted, voided or expired), and posting it records
a new transfer pointing at the hold.

    ledger = SqlLedger(ledger_tables(metadata), clock)
    with engine.begin() as conn:  # the caller's unit of work
        wallet = ledger.open_account(conn, tenant, AccountSpec("wallet:c1", AccountPurpose.PREPAID_WALLET, "EUR"))
        ledger.transfer(conn, tenant, TransferRequest("usage-42", [Leg(wallet.id, revenue.id, 119, "EUR")]))
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping, Sequence

from sqlalchemy import Connection, select, update

from libs.clock import Clock, SystemClock
from libs.ids import new_id
from libs.platform.inbox import insert_ignoring_duplicates
from services.payment_factory.adapters import ledger_invariants, ledger_one_trip, ledger_reads
from services.payment_factory.adapters.ledger_rows import account_of, balance_of, find_by_key, load_account_row, load_transfer, utc
from services.payment_factory.adapters.ledger_tables import PENDING, LedgerTables
from services.payment_factory.adapters.ledger_writes import (apply_deltas, check_currencies, check_funds, insert_entries,
                                                             insert_transfer, lock_accounts)
from services.payment_factory.domain.ledger import Leg, Transfer, TransferRequest, TransferStatus, account_deltas, body_hash
from services.payment_factory.domain.ledger_accounts import Account, AccountSpec, Balance
from services.payment_factory.domain.ledger_errors import (CurrencyMismatch, IdempotencyConflict, InsufficientFunds, InvalidTransfer,
                                                           NotReversible, TransferNotPending, UnknownTransfer)
from services.payment_factory.domain.ledger_holds import ensure_pending, release, reversal_legs, settle
from services.payment_factory.domain.ledger_statements import Statement


class SqlLedger:
    one_trip_holds = True  # hold_unless_recorded through the PostgreSQL function where it exists (adapters.ledger_one_trip)

    def __init__(self, tables: LedgerTables, clock: Clock | None = None):
        self.t = tables
        self.clock = clock or SystemClock()

    # accounts

    def open_account(self, conn: Connection, tenant_id: str, spec: AccountSpec) -> Account:
        """The tenant's account with this code, created on first use; the same code with other terms is refused."""
        a = self.t.accounts
        row = {"id": new_id("acc"), "tenant_id": tenant_id, "code": spec.code, "purpose": spec.purpose.value,
               "currency": spec.currency, "owner_type": spec.owner_type, "owner_id": spec.owner_id,
               "debits_must_not_exceed_credits": spec.flags.debits_must_not_exceed_credits,
               "credits_must_not_exceed_debits": spec.flags.credits_must_not_exceed_debits,
               "debits_posted": 0, "credits_posted": 0, "debits_pending": 0, "credits_pending": 0, "created_at": self.clock.now()}
        insert_ignoring_duplicates(conn, a, [row], ["tenant_id", "code"])
        account = account_of(conn.execute(select(a).where(a.c.tenant_id == tenant_id, a.c.code == spec.code)).one())
        if account.currency != spec.currency:
            raise CurrencyMismatch(account.id, account.currency, spec.currency)
        if not account.matches(spec):
            raise IdempotencyConflict(spec.code)
        return account

    def account(self, conn: Connection, tenant_id: str, account_id: str) -> Account:
        return account_of(load_account_row(conn, self.t, tenant_id, account_id))

    # transfers

    def transfer(self, conn: Connection, tenant_id: str, request: TransferRequest) -> Transfer:
        """Post (or hold, when request.pending) all legs atomically; a repeat of the same request returns the original."""
        digest = request.body_hash()
        prior = self._replay(conn, tenant_id, request.idempotency_key, digest)
        if prior:
            return prior
        deltas = account_deltas(request.legs, request.pending)
        rows = lock_accounts(conn, self.t, tenant_id, deltas)
        check_currencies(rows, request.legs)
        if request.reverses and self._reversed_by(conn, tenant_id, request.reverses):
            raise NotReversible(f"transfer {request.reverses} is already reversed")
        check_funds(rows, deltas)
        return self._record(conn, tenant_id, request.idempotency_key, digest, request.legs, deltas, request.metadata,
                            pending=request.pending, expires_at=request.expires_at, reverses=request.reverses)

    def hold(self, conn: Connection, tenant_id: str, request: TransferRequest) -> Transfer:
        """Reserve the legs' amounts as pending; build the request with pending=True (and expires_at if it should lapse)."""
        if not request.pending:
            raise InvalidTransfer("a hold is a request with pending=True")
        return self.transfer(conn, tenant_id, request)

    def hold_unless_recorded(self, conn: Connection, tenant_id: str, request: TransferRequest) -> tuple[Transfer, dict[str, Balance]] | None:
        """A hold for a key that is almost always new, without looking the key up first (two round trips fewer than `hold`).

        The accounts are locked and the funds checked as in `transfer`; the unique (tenant, key) index then decides: when
        the key is already recorded (a retry, or a twin that committed first while this one waited for the locks), nothing
        is written and the answer is None, whatever that earlier request asked (the caller compares what it cares about).
        A request the funds refuse is checked for a recorded key before InsufficientFunds is raised, so a retry of an
        accepted hold is never refused. Returns the hold and the touched accounts' balances after it (from the locked rows).
        """
        if not request.pending or request.reverses:
            raise InvalidTransfer("hold_unless_recorded places plain holds (pending=True, no reversal)")
        deltas, digest = account_deltas(request.legs, True), request.body_hash()
        if self.one_trip_holds and ledger_one_trip.available(conn):
            transfer, row = self.new_hold(tenant_id, request)
            outcome, after = ledger_one_trip.hold(conn, tenant_id, row, transfer.legs, deltas)
            if outcome == "held":
                return transfer, after
            if outcome == "recorded":
                return None
            # 'refer': nothing written; the Python path below raises the precise refusal (or finds the key recorded)
        rows = lock_accounts(conn, self.t, tenant_id, deltas)
        check_currencies(rows, request.legs)
        try:
            check_funds(rows, deltas)
        except InsufficientFunds:
            if find_by_key(conn, self.t, tenant_id, request.idempotency_key) is not None:
                return None
            raise
        held = self._insert(conn, tenant_id, request.idempotency_key, digest, request.legs, deltas, request.metadata,
                            pending=True, expires_at=request.expires_at)
        if held is None:
            return None
        return held, {account_id: balance_of(rows[account_id]) + delta for account_id, delta in deltas.items()}

    def post_pending(self, conn: Connection, tenant_id: str, pending_id: str, idempotency_key: str,
                     amounts: Sequence[int] | None = None, metadata: Mapping[str, Any] | None = None) -> Transfer:
        """Settle a hold: release all it reserved and post `amounts` per leg (None: everything held)."""
        hold = load_transfer(conn, self.t, tenant_id, pending_id)
        legs = settle(hold, amounts)
        metadata = dict(metadata or {})
        digest = body_hash(legs, metadata, pending_id=pending_id)
        prior = self._replay(conn, tenant_id, idempotency_key, digest)
        if prior:
            return prior
        now = self.clock.now()
        ensure_pending(hold, now)
        deltas = _merge(release(hold), account_deltas(legs, pending=False))
        lock_accounts(conn, self.t, tenant_id, deltas)
        self._resolve(conn, tenant_id, hold.id, TransferStatus.POSTED, now)
        return self._record(conn, tenant_id, idempotency_key, digest, legs, deltas, metadata, pending_id=pending_id)

    def void_pending(self, conn: Connection, tenant_id: str, pending_id: str) -> Transfer:
        """Release a hold; voiding it again is a harmless repeat."""
        hold = load_transfer(conn, self.t, tenant_id, pending_id)
        if hold.status is TransferStatus.VOIDED:
            return hold
        ensure_pending(hold)
        lock_accounts(conn, self.t, tenant_id, release(hold))
        return self._release(conn, tenant_id, hold, TransferStatus.VOIDED, self.clock.now())

    def expire_pending(self, conn: Connection, tenant_id: str, now: datetime, limit: int = 500) -> list[str]:
        """Expire the tenant's holds whose time ran out by `now`; returns their ids (a concurrent post or void wins)."""
        tr = self.t.transfers.c
        due = conn.execute(select(tr.id).where(tr.tenant_id == tenant_id, tr.status == PENDING, tr.expires_at <= utc(now))
                           .order_by(tr.expires_at, tr.id).limit(limit)).scalars().all()
        expired = []
        for hold_id in due:
            hold = load_transfer(conn, self.t, tenant_id, hold_id)
            lock_accounts(conn, self.t, tenant_id, release(hold))
            try:
                self._release(conn, tenant_id, hold, TransferStatus.EXPIRED, now)
            except TransferNotPending:
                continue
            expired.append(hold_id)
        return expired

    def reverse(self, conn: Connection, tenant_id: str, transfer_id: str, idempotency_key: str,
                metadata: Mapping[str, Any] | None = None) -> Transfer:
        """The correction of a posted transfer: the same legs with debit and credit swapped, pointing at it."""
        original = load_transfer(conn, self.t, tenant_id, transfer_id)
        legs = reversal_legs(original)
        return self.transfer(conn, tenant_id, TransferRequest(idempotency_key, legs, dict(metadata or {}), reverses=transfer_id))

    def get_transfer(self, conn: Connection, tenant_id: str, transfer_id: str) -> Transfer:
        return load_transfer(conn, self.t, tenant_id, transfer_id)

    def transfer_by_key(self, conn: Connection, tenant_id: str, idempotency_key: str) -> Transfer:
        """The transfer recorded under this key; callers that derive keys from their own ids find it again this way."""
        row = find_by_key(conn, self.t, tenant_id, idempotency_key)
        if row is None:
            raise UnknownTransfer(idempotency_key)
        return load_transfer(conn, self.t, tenant_id, row.id)

    # queries

    def balance(self, conn: Connection, tenant_id: str, account_id: str) -> Balance:
        return ledger_reads.balance(conn, self.t, tenant_id, account_id)

    def statement(self, conn: Connection, tenant_id: str, account_id: str, start: datetime, end: datetime) -> Statement:
        return ledger_reads.statement(conn, self.t, tenant_id, account_id, start, end)

    def check_invariants(self, conn: Connection, tenant_id: str) -> list[str]:
        return ledger_invariants.check_invariants(conn, self.t, tenant_id)

    # internals

    def _replay(self, conn: Connection, tenant_id: str, key: str, digest: str) -> Transfer | None:
        prior = find_by_key(conn, self.t, tenant_id, key)
        if prior is None:
            return None
        if prior.body_hash != digest:
            raise IdempotencyConflict(key)
        return load_transfer(conn, self.t, tenant_id, prior.id, replayed=True)

    def _reversed_by(self, conn: Connection, tenant_id: str, transfer_id: str) -> bool:
        tr = self.t.transfers.c
        return conn.execute(select(tr.id).where(tr.tenant_id == tenant_id, tr.reverses == transfer_id).limit(1)).first() is not None

    def _record(self, conn: Connection, tenant_id: str, key: str, digest: str, legs: Sequence[Leg], deltas: Mapping[str, Balance],
                metadata: Mapping[str, Any], pending: bool = False, expires_at: datetime | None = None,
                reverses: str | None = None, pending_id: str | None = None) -> Transfer:
        transfer = self._insert(conn, tenant_id, key, digest, legs, deltas, metadata, pending, expires_at, reverses, pending_id)
        if transfer is None:
            # a concurrent request with the same key committed first while we waited for the locks
            prior = self._replay(conn, tenant_id, key, digest)
            assert prior is not None
            return prior
        return transfer

    def _insert(self, conn: Connection, tenant_id: str, key: str, digest: str, legs: Sequence[Leg], deltas: Mapping[str, Balance],
                metadata: Mapping[str, Any], pending: bool = False, expires_at: datetime | None = None,
                reverses: str | None = None, pending_id: str | None = None) -> Transfer | None:
        """Record the transfer, its entries and the balance deltas; None (and nothing written) when the key is taken."""
        transfer, row = self._new_transfer(tenant_id, key, digest, legs, metadata, pending, expires_at, reverses, pending_id)
        if not insert_transfer(conn, self.t, row):
            return None
        insert_entries(conn, self.t, tenant_id, transfer.id, legs, pending, transfer.created_at)
        apply_deltas(conn, self.t, deltas)
        return transfer

    def new_hold(self, tenant_id: str, request: TransferRequest) -> tuple[Transfer, dict]:
        """A new hold for `request` and its transfer row, unwritten (for the one-trip hold function's callers)."""
        return self._new_transfer(tenant_id, request.idempotency_key, request.body_hash(), request.legs, request.metadata, True,
                                  request.expires_at)

    def _new_transfer(self, tenant_id: str, key: str, digest: str, legs: Sequence[Leg], metadata: Mapping[str, Any], pending: bool,
                      expires_at: datetime | None, reverses: str | None = None, pending_id: str | None = None) -> tuple[Transfer, dict]:
        """A new transfer (now, a fresh id) and its row."""
        now = self.clock.now()
        transfer = Transfer(id=new_id("trf"), tenant_id=tenant_id, idempotency_key=key,
                            status=TransferStatus.PENDING if pending else TransferStatus.POSTED, is_hold=pending, legs=tuple(legs),
                            created_at=now, metadata=dict(metadata), pending_id=pending_id, reverses=reverses, expires_at=expires_at)
        row = {"id": transfer.id, "tenant_id": tenant_id, "idempotency_key": key, "body_hash": digest, "status": transfer.status.value,
               "is_hold": pending, "pending_id": pending_id, "reverses": reverses, "expires_at": utc(expires_at), "resolved_at": None,
               "created_at": now, "metadata": transfer.metadata}
        return transfer, row

    def _resolve(self, conn: Connection, tenant_id: str, hold_id: str, status: TransferStatus, now: datetime) -> None:
        """Move a hold off pending, guarded so of two racing resolutions exactly one wins."""
        tr = self.t.transfers.c
        won = conn.execute(update(self.t.transfers).where(tr.tenant_id == tenant_id, tr.id == hold_id, tr.status == "pending")
                           .values(status=status.value, resolved_at=utc(now)).returning(tr.id)).first()
        if won is None:
            raise TransferNotPending(hold_id, load_transfer(conn, self.t, tenant_id, hold_id).status.value)

    def _release(self, conn: Connection, tenant_id: str, hold: Transfer, status: TransferStatus, now: datetime) -> Transfer:
        self._resolve(conn, tenant_id, hold.id, status, now)
        apply_deltas(conn, self.t, release(hold))
        return load_transfer(conn, self.t, tenant_id, hold.id)


def _merge(*parts: Mapping[str, Balance]) -> dict[str, Balance]:
    merged: dict[str, Balance] = {}
    for part in parts:
        for account_id, delta in part.items():
            merged[account_id] = merged.get(account_id, Balance()) + delta
    return merged
