"""The one-round-trip hold (PostgreSQL function of migration 0009) writes and answers exactly what the Python path does.

Each case runs twice on one migrated schema, once through the function and once with it switched off
(`SqlLedger.one_trip_holds = False`), and compares every row written (ids and times aside), the balances answered
and the refusals raised.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import event, select

from libs.clock import FixedClock
from services.payment_factory.adapters.metadata import metadata
from services.payment_factory.adapters.sql_ledger import SqlLedger
from services.payment_factory.adapters.tables import ledger
from services.payment_factory.domain.ledger import Leg, TransferRequest
from services.payment_factory.domain.ledger_accounts import AccountPurpose, AccountSpec
from services.payment_factory.domain.ledger_errors import CurrencyMismatch, InsufficientFunds, UnknownAccount
from tests.support.pg import drop_engine, fresh_engine

MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "payment_factory" / "migrations"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def engine():
    eng = fresh_engine(metadata, MIGRATIONS, "one_trip")
    yield eng
    drop_engine(eng)


class Books:
    """One ledger per path, each with its own tenant on the same schema, so the rows can be compared side by side."""

    def __init__(self, engine, one_trip: bool):
        self.engine, self.tenant = engine, "t-fn" if one_trip else "t-py"
        self.ledger = SqlLedger(ledger, FixedClock(NOW))
        self.ledger.one_trip_holds = one_trip
        self.statements: list[str] = []
        with engine.begin() as conn:
            self.wallet = self.ledger.open_account(conn, self.tenant, AccountSpec("wallet", AccountPurpose.PREPAID_WALLET, "EUR")).id
            self.receivable = self.ledger.open_account(conn, self.tenant, AccountSpec("recv", AccountPurpose.CUSTOMER_RECEIVABLE, "EUR")).id
            self.cash = self.ledger.open_account(conn, self.tenant, AccountSpec("cash", AccountPurpose.BANK, "EUR")).id
            self.ledger.transfer(conn, self.tenant, TransferRequest("top-up", (Leg(self.cash, self.wallet, 1000, "EUR"),)))

    def hold(self, key: str, minor: int, currency: str = "EUR", debit: str | None = None):
        request = self.request = TransferRequest(f"authorize:{key}", (Leg(debit or self.wallet, self.receivable, minor, currency),),
                                  {"kind": "authorization", "reference": key}, pending=True, expires_at=NOW + timedelta(minutes=5))
        with self.engine.begin() as conn:
            event.listen(conn, "before_cursor_execute", self._count)
            try:
                return self.ledger.hold_unless_recorded(conn, self.tenant, request)
            finally:
                event.remove(conn, "before_cursor_execute", self._count)

    def _count(self, conn, cursor, statement, *args) -> None:
        self.statements.append(statement)

    def rows(self) -> dict:
        """Everything this tenant's ledger holds, without generated ids and the tenant name."""
        t = ledger
        with self.engine.connect() as conn:
            names = {r.id: r.code for r in conn.execute(select(t.accounts).where(t.accounts.c.tenant_id == self.tenant))}
            accounts = sorted((r.code, r.debits_posted, r.credits_posted, r.debits_pending, r.credits_pending)
                              for r in conn.execute(select(t.accounts).where(t.accounts.c.tenant_id == self.tenant)))
            transfers = {r.id: r for r in conn.execute(select(t.transfers).where(t.transfers.c.tenant_id == self.tenant))}
            entries = sorted((transfers[e.transfer_id].idempotency_key, e.leg, e.direction, names[e.account_id], e.currency, e.amount, e.phase,
                              e.created_at) for e in conn.execute(select(t.entries).where(t.entries.c.tenant_id == self.tenant)))
            kept = sorted((r.idempotency_key, r.status, r.is_hold, r.pending_id, r.reverses, r.expires_at, r.resolved_at,
                           r.created_at, r.metadata) for r in transfers.values())
            invariants = self.ledger.check_invariants(conn, self.tenant)
            self.hashes = {r.idempotency_key: r.body_hash for r in transfers.values()}  # hashes name account ids: compared apart
        return {"accounts": accounts, "transfers": kept, "entries": entries, "invariants": invariants}


def both(engine) -> tuple[Books, Books]:
    return Books(engine, one_trip=True), Books(engine, one_trip=False)


def test_a_hold_writes_the_same_rows_and_answers_the_same_balances_in_one_statement(engine):
    fn, py = both(engine)
    answers = []
    for books in (fn, py):
        books.hold("first", 100)  # the first hold of a process also looks up once whether the schema has the function
        books.statements.clear()
        transfer, balances = books.hold("a1", 300)
        by_code = {books.wallet: "wallet", books.receivable: "recv"}
        answers.append(({by_code[k]: v for k, v in balances.items()}, transfer.status, transfer.legs[0].amount_minor))
    assert answers[0] == answers[1]
    assert answers[0][0]["wallet"].debits_pending == 400 and answers[0][0]["wallet"].credits_posted == 1000
    assert fn.rows() == py.rows() and fn.rows()["invariants"] == []
    assert fn.hashes["authorize:a1"] == fn.request.body_hash() and py.hashes["authorize:a1"] == py.request.body_hash()
    assert len(fn.statements) == 1 and "ledger_hold_unless_recorded" in fn.statements[0]  # one round trip
    assert len(py.statements) > 3  # the Python path: lock, insert transfer, entries, totals


def test_a_retried_key_writes_nothing_and_answers_none_on_both_paths(engine):
    fn, py = both(engine)
    for books in (fn, py):
        assert books.hold("same", 200) is not None
        assert books.hold("same", 200) is None
        assert books.hold("same", 999_999) is None  # the key decides, whatever the retry asks (the caller compares)
    assert fn.rows() == py.rows()
    assert fn.rows()["accounts"][-1][0] == "wallet" and fn.rows()["accounts"][-1][3] == 200  # held once


def test_refusals_are_the_python_paths_and_write_nothing(engine):
    fn, py = both(engine)
    raised = []
    for books in (fn, py):
        books.hold("ok", 600)
        with pytest.raises(InsufficientFunds) as too_much:
            books.hold("too-much", 401)
        with pytest.raises(CurrencyMismatch) as currency:
            books.hold("usd", 10, currency="USD")
        with pytest.raises(UnknownAccount):
            books.hold("ghost", 10, debit="acc_unknown")
        raised.append((too_much.value.available, too_much.value.requested, currency.value.expected, currency.value.got))
    assert raised[0] == raised[1] == (400, 401, "EUR", "USD")
    assert fn.rows() == py.rows()
    assert [k for k, *_ in fn.rows()["transfers"]] == ["authorize:ok", "top-up"]


def test_a_refused_retry_of_an_accepted_hold_still_answers_none(engine):
    """The key is looked up before a refusal is raised: a retry of a hold that took the money is never refused."""
    fn, py = both(engine)
    for books in (fn, py):
        assert books.hold("big", 900) is not None
        assert books.hold("big", 900) is None  # it would no longer fit: still the recorded hold's retry
    assert fn.rows() == py.rows()
