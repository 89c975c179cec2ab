"""The ledger adapter, one contract on SQLite and PostgreSQL: balanced transfers, idempotency, overdraft, invariants."""

import threading

import pytest
from libs.platform.db import make_engine
from libs.platform.migrations import prepare_schema
from services.payment_factory.adapters import tables  # noqa: F401
from services.payment_factory.adapters.double_entry import (IdempotencyConflict, InsufficientFunds, Leg, account_entries, balance,
                                                            invariant_violations, open_account, reverse, transfer)
from services.payment_factory.adapters.metadata import metadata
from services.payment_factory.bootstrap import MIGRATIONS
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


def test_transfers_balance_are_idempotent_and_reversible(engine):
    with engine.begin() as conn:
        bank = open_account(conn, "t", "bank", "bank", "EUR")
        recv = open_account(conn, "t", "recv", "receivable", "EUR")
        rev = open_account(conn, "t", "rev", "revenue", "EUR")
        vat = open_account(conn, "t", "vat", "tax_payable", "EUR")
        first = transfer(conn, "t", "inv-1", "EUR", [Leg(recv, rev, 10000), Leg(recv, vat, 1900)])
        assert transfer(conn, "t", "inv-1", "EUR", [Leg(recv, rev, 10000), Leg(recv, vat, 1900)]) == first
        with pytest.raises(IdempotencyConflict):
            transfer(conn, "t", "inv-1", "EUR", [Leg(recv, rev, 1)])
        transfer(conn, "t", "pay-1", "EUR", [Leg(bank, recv, 11900)])
        reverse(conn, "t", first, "storno-1")
        assert balance(conn, recv) == (11900, 23800)
        assert [e["debit"] - e["credit"] for e in account_entries(conn, recv)] == [11900, -11900, -11900]
        assert invariant_violations(conn, "t") == []


def test_a_failing_leg_rolls_back_the_whole_transfer(engine):
    with engine.begin() as conn:
        wallet = open_account(conn, "t", "wallet", "wallet", "EUR", no_overdraft=True)
        topup = open_account(conn, "t", "topup", "bank", "EUR")
        usage = open_account(conn, "t", "usage", "revenue", "EUR")
        transfer(conn, "t", "top", "EUR", [Leg(topup, wallet, 500)])
    with pytest.raises(InsufficientFunds):
        with engine.begin() as conn:
            transfer(conn, "t", "use", "EUR", [Leg(wallet, usage, 400), Leg(wallet, usage, 200)])
    with engine.connect() as conn:
        assert balance(conn, wallet) == (0, 500) and invariant_violations(conn, "t") == []


def test_concurrent_debits_never_overdraw_a_protected_wallet(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("concurrency is proven on the real database")
    with engine.begin() as conn:
        wallet = open_account(conn, "t", "hot", "wallet", "EUR", no_overdraft=True)
        topup = open_account(conn, "t", "src", "bank", "EUR")
        sink = open_account(conn, "t", "sink", "revenue", "EUR")
        transfer(conn, "t", "seed", "EUR", [Leg(topup, wallet, 1000)])
    results: list[bool] = []

    def debit(i: int) -> None:
        try:
            with engine.begin() as conn:
                transfer(conn, "t", f"d{i}", "EUR", [Leg(wallet, sink, 30)])
            results.append(True)
        except InsufficientFunds:
            results.append(False)

    threads = [threading.Thread(target=debit, args=(i,)) for i in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with engine.connect() as conn:
        debits, credits = balance(conn, wallet)
        assert results.count(True) == 1000 // 30 and debits == 990 and credits == 1000
        assert invariant_violations(conn, "t") == []
