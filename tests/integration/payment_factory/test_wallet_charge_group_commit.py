"""Wallet charges racing on one wallet against PostgreSQL, through the group-commit writer the payment factory uses.

The charges share commits, so these check what sharing must not change: the wallet never goes below zero, exactly the
charges that fit are accepted, a retried key posts once and answers the same transfer, and the ledger invariants hold.
The first race starts on a customer with no accounts yet, so the accounts are opened by racing first charges.
"""

from pathlib import Path

import pytest
from sqlalchemy import select

from libs.money import Money
from services.payment_factory.adapters.group_commit import GroupCommitWriter
from services.payment_factory.adapters.metadata import metadata
from services.payment_factory.adapters.sql_ledger import SqlLedger
from services.payment_factory.adapters.tables import ledger
from services.payment_factory.app.wallet import charge, top_up
from services.payment_factory.domain.ledger_errors import IdempotencyConflict, InsufficientFunds
from tests.support.concurrency import run_all as race
from tests.support.pg import drop_engine, fresh_engine

MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "payment_factory" / "migrations"
T = "tenant-w"


@pytest.fixture
def engine():
    eng = fresh_engine(metadata, MIGRATIONS, "wallet_charge_race", pool_size=50)
    yield eng
    drop_engine(eng)


@pytest.fixture
def writer(engine):
    w = GroupCommitWriter(engine, ledger, writers=1, max_batch=500)
    yield w
    w.close()


def spend(engine, books, writer, customer: str, key: str, minor: int, answer: str = "transfer_id"):
    def job():
        try:
            return charge(engine, books, writer, T, key, customer, Money(minor, "EUR"), "meter")[answer]
        except InsufficientFunds:
            return "refused"
    return job


def test_racing_first_charges_of_a_new_customer_open_its_accounts_once_and_all_are_refused(engine, writer):
    books = SqlLedger(ledger)
    outcomes = race(30, [spend(engine, books, writer, "cus_new", f"n{i}", 50) for i in range(30)])
    assert outcomes == ["refused"] * 30  # an empty wallet pays nothing; no UnknownAccount from racing openings
    with engine.connect() as conn:
        codes = conn.execute(select(ledger.accounts.c.code).where(ledger.accounts.c.tenant_id == T)).scalars().all()
        assert sorted(codes) == sorted(set(codes)) and len(codes) == 2  # the wallet and revenue, each opened once
        assert books.check_invariants(conn, T) == []


def test_racing_charges_never_overdraw_and_exactly_those_that_fit_are_accepted(engine, writer):
    books = SqlLedger(ledger)
    balance, amount, attempts = 1000, 70, 40
    top_up(engine, books, T, "top-up", "cus_1", Money(balance, "EUR"), "cash")
    outcomes = race(attempts, [spend(engine, books, writer, "cus_1", f"k{i}", amount) for i in range(attempts)])
    accepted = [o for o in outcomes if o != "refused"]
    assert len(accepted) == balance // amount and len(set(accepted)) == len(accepted)
    assert balance - len(accepted) * amount == 20
    assert charge(engine, books, writer, T, "rest", "cus_1", Money(20, "EUR"), "meter")["wallet_minor"] == 0  # what was left, exactly
    assert 1 <= writer.batches <= attempts + 1
    with engine.connect() as conn:
        assert books.check_invariants(conn, T) == []


def test_each_racing_charge_answers_the_wallet_right_after_itself(engine, writer):
    books = SqlLedger(ledger)
    top_up(engine, books, T, "top-up", "cus_3", Money(1000, "EUR"), "cash")
    answers = race(20, [spend(engine, books, writer, "cus_3", f"a{i}", 50, "wallet_minor") for i in range(20)])
    assert sorted(answers, reverse=True) == [1000 - 50 * k for k in range(1, 21)]  # every step once: none read a later state


def test_a_retried_charge_posts_once_and_another_body_for_its_key_is_a_conflict(engine, writer):
    books = SqlLedger(ledger)
    top_up(engine, books, T, "top-up", "cus_2", Money(1000, "EUR"), "cash")
    ids = race(20, [spend(engine, books, writer, "cus_2", "same", 300)] * 20)
    assert len(set(ids)) == 1 and ids[0] != "refused"
    assert charge(engine, books, writer, T, "other", "cus_2", Money(1, "EUR"), "meter")["wallet_minor"] == 1000 - 300 - 1
    with pytest.raises(IdempotencyConflict):
        charge(engine, books, writer, T, "same", "cus_2", Money(400, "EUR"), "meter")
