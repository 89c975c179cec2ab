"""Prepaid authorizations racing on one wallet against PostgreSQL: the hold skips its key lookup, the wallet lock still decides."""

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from libs.money import Money
from services.payment_factory.adapters.metadata import metadata
from services.payment_factory.adapters.sql_ledger import SqlLedger
from services.payment_factory.adapters.tables import ledger, outbox, wallet_authorizations
from services.payment_factory.app import prepaid
from services.payment_factory.app.wallet import top_up
from services.payment_factory.domain.ledger_errors import IdempotencyConflict, InsufficientFunds
from tests.support.concurrency import run_all as race
from tests.support.pg import drop_engine, fresh_engine

MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "payment_factory" / "migrations"
T, CUSTOMER, NOW = "tenant-p", "cus_1", datetime(2026, 5, 1, tzinfo=timezone.utc)


@pytest.fixture
def engine():
    eng = fresh_engine(metadata, MIGRATIONS, "prepaid_race", pool_size=30)
    yield eng
    drop_engine(eng)


def authorize(engine, books, key: str, minor: int):
    def job():
        try:
            return prepaid.authorize(engine, books, T, key, CUSTOMER, Money(minor, "EUR"), timedelta(minutes=5), None, NOW)["id"]
        except InsufficientFunds:
            return "refused"
    return job


def test_racing_authorizations_never_reserve_more_than_the_wallet_holds(engine):
    books = SqlLedger(ledger)
    balance, amount, attempts = 1000, 70, 30
    top_up(engine, books, T, "top-up", CUSTOMER, Money(balance, "EUR"), "cash")
    prepaid.set_low_balance(engine, T, CUSTOMER, Money(500, "EUR"))
    prepaid.wallet_view(engine, books, T, CUSTOMER, "EUR")  # opens the customer's accounts: the race here is about holds
    outcomes = race(attempts, [authorize(engine, books, f"k{i}", amount) for i in range(attempts)])
    accepted = balance // amount
    assert len(outcomes) - outcomes.count("refused") == accepted
    view = prepaid.wallet_view(engine, books, T, CUSTOMER, "EUR")
    assert (view["held_minor"], view["available_minor"], view["open_authorizations"]) == (accepted * amount, balance - accepted * amount, accepted)
    with engine.connect() as conn:
        assert books.check_invariants(conn, T) == []
        alerts = [json.loads(p) for p in conn.execute(select(outbox.table.c.payload)).scalars()]
    levels = [a["body"]["level"] for a in alerts if a.get("type", "").startswith("WalletBalanceAlert")]
    assert levels == ["low"]  # the threshold was crossed once: one alert


def test_racing_retries_of_one_key_hold_once_and_answer_the_same(engine):
    books = SqlLedger(ledger)
    top_up(engine, books, T, "top-up", CUSTOMER, Money(1000, "EUR"), "cash")
    ids = race(20, [authorize(engine, books, "same", 600)] * 20)
    assert len(set(ids)) == 1 and ids[0] != "refused"  # the retries after the first would not fit: they still answer with it
    assert prepaid.wallet_view(engine, books, T, CUSTOMER, "EUR")["held_minor"] == 600
    with engine.connect() as conn:
        assert conn.execute(select(wallet_authorizations.c.id)).scalars().all() == [ids[0]]


def test_a_key_reused_for_another_amount_is_a_conflict(engine):
    books = SqlLedger(ledger)
    top_up(engine, books, T, "top-up", CUSTOMER, Money(1000, "EUR"), "cash")
    authorize(engine, books, "k", 100)()
    with pytest.raises(IdempotencyConflict):
        authorize(engine, books, "k", 200)()
