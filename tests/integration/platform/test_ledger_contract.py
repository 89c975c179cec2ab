"""The service's ledger, as the payment factory wires it (migrated schema on PostgreSQL, created tables on SQLite):
balanced transfers, idempotency, overdraft, reversal, invariants."""

import threading

import pytest
from libs.platform.db import make_engine
from libs.platform.migrations import prepare_schema
from services.payment_factory.adapters.metadata import metadata
from services.payment_factory.adapters.sql_ledger import SqlLedger
from services.payment_factory.adapters.tables import ledger as ledger_tables
from services.payment_factory.bootstrap import MIGRATIONS
from services.payment_factory.domain.ledger import Leg, TransferRequest
from services.payment_factory.domain.ledger_accounts import AccountPurpose as P
from services.payment_factory.domain.ledger_accounts import AccountSpec
from services.payment_factory.domain.ledger_errors import IdempotencyConflict, InsufficientFunds
from tests.support.pg import fresh_engine


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        eng = make_engine(None, "payment", tmp_path)
        prepare_schema(eng, metadata, MIGRATIONS, "payment")
    else:
        eng = fresh_engine(metadata, MIGRATIONS, "ledger", pool_size=20)
    yield eng
    eng.dispose()


@pytest.fixture
def books():
    return SqlLedger(ledger_tables)


def opened(books, conn, code, purpose):
    return books.open_account(conn, "t", AccountSpec(code, purpose, "EUR")).id


def test_transfers_balance_are_idempotent_and_reversible(engine, books):
    with engine.begin() as conn:
        bank, recv = opened(books, conn, "bank", P.BANK), opened(books, conn, "recv", P.CUSTOMER_RECEIVABLE)
        rev, vat = opened(books, conn, "rev", P.REVENUE), opened(books, conn, "vat", P.TAX_PAYABLE)
        invoice = TransferRequest("inv-1", (Leg(recv, rev, 10000, "EUR"), Leg(recv, vat, 1900, "EUR")))
        first = books.transfer(conn, "t", invoice)
        again = books.transfer(conn, "t", invoice)
        assert again.id == first.id and again.replayed
        with pytest.raises(IdempotencyConflict):
            books.transfer(conn, "t", TransferRequest("inv-1", (Leg(recv, rev, 1, "EUR"),)))
        books.transfer(conn, "t", TransferRequest("pay-1", (Leg(bank, recv, 11900, "EUR"),)))
        books.reverse(conn, "t", first.id, "storno-1")
        b = books.balance(conn, "t", recv)
        assert (b.debits_posted, b.credits_posted) == (11900, 23800)
        from datetime import datetime, timezone
        lines = books.statement(conn, "t", recv, datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc)).lines
        assert [l.debit - l.credit for l in lines] == [11900, -11900, -11900]
        assert books.check_invariants(conn, "t") == []


def test_a_failing_leg_rolls_back_the_whole_transfer(engine, books):
    with engine.begin() as conn:
        wallet, topup = opened(books, conn, "wallet", P.PREPAID_WALLET), opened(books, conn, "topup", P.BANK)
        usage = opened(books, conn, "usage", P.REVENUE)
        books.transfer(conn, "t", TransferRequest("top", (Leg(topup, wallet, 500, "EUR"),)))
    with pytest.raises(InsufficientFunds):
        with engine.begin() as conn:
            books.transfer(conn, "t", TransferRequest("use", (Leg(wallet, usage, 400, "EUR"), Leg(wallet, usage, 200, "EUR"))))
    with engine.connect() as conn:
        b = books.balance(conn, "t", wallet)
        assert (b.debits_posted, b.credits_posted) == (0, 500) and books.check_invariants(conn, "t") == []


def test_concurrent_debits_never_overdraw_a_protected_wallet(engine, books):
    if engine.dialect.name != "postgresql":
        pytest.skip("concurrency is proven on the real database")
    with engine.begin() as conn:
        wallet, topup = opened(books, conn, "hot", P.PREPAID_WALLET), opened(books, conn, "src", P.BANK)
        sink = opened(books, conn, "sink", P.REVENUE)
        books.transfer(conn, "t", TransferRequest("seed", (Leg(topup, wallet, 1000, "EUR"),)))
    results: list[bool] = []

    def debit(i: int) -> None:
        try:
            with engine.begin() as conn:
                books.transfer(conn, "t", TransferRequest(f"d{i}", (Leg(wallet, sink, 30, "EUR"),)))
            results.append(True)
        except InsufficientFunds:
            results.append(False)

    threads = [threading.Thread(target=debit, args=(i,)) for i in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with engine.connect() as conn:
        b = books.balance(conn, "t", wallet)
        assert results.count(True) == 1000 // 30 and b.debits_posted == 990 and b.credits_posted == 1000
        assert books.check_invariants(conn, "t") == []
