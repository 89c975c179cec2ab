"""Device authorizations from the event loop (adapters/async_authorize.py) against PostgreSQL: the same rows as the
thread-pool path, no overdraft when they race, and every case it does not decide handed back having written nothing."""

import asyncio
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from libs.money import Money
from services.payment_factory.adapters.async_authorize import AsyncAuthorizer
from services.payment_factory.adapters.metadata import metadata
from services.payment_factory.adapters.sql_ledger import SqlLedger
from services.payment_factory.adapters.tables import ledger, outbox, wallet_authorizations
from services.payment_factory.app import prepaid
from services.payment_factory.app.wallet import top_up
from services.payment_factory.domain.ledger_errors import InsufficientFunds
from tests.support.pg import drop_engine, fresh_engine

MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "payment_factory" / "migrations"
T, CUSTOMER, NOW = "tenant-a", "cus_1", datetime(2026, 5, 1, tzinfo=timezone.utc)
TTL = timedelta(minutes=5)


@pytest.fixture
def engine():
    eng = fresh_engine(metadata, MIGRATIONS, "async_auth", pool_size=10)
    yield eng
    drop_engine(eng)


def authorizer_for(engine, books, woken: list) -> AsyncAuthorizer:
    schema = engine.get_execution_options()["schema_translate_map"][None]
    return AsyncAuthorizer(os.environ["CLOUDBILL_PG_URL"], schema, books, lambda: woken.append(1))


def funded_wallet(engine, books, minor: int, low_balance: int | None = None) -> None:
    top_up(engine, books, T, "top-up", CUSTOMER, Money(minor, "EUR"), "cash")
    if low_balance is not None:
        prepaid.set_low_balance(engine, T, CUSTOMER, Money(low_balance, "EUR"))
    prepaid.wallet_view(engine, books, T, CUSTOMER, "EUR")  # opens (and remembers) the customer's accounts


def written(engine, hold_id: str) -> dict:
    """What an authorization left behind, without the parts that differ by construction (ids, times, the key)."""
    t, e = ledger.transfers.c, ledger.entries.c
    with engine.connect() as conn:
        transfer = conn.execute(select(t.status, t.is_hold, t.expires_at, t.metadata).where(t.id == hold_id)).one()
        entries = conn.execute(select(e.leg, e.direction, e.account_id, e.currency, e.amount, e.phase).where(e.transfer_id == hold_id)
                               .order_by(e.leg, e.direction)).all()
        auth = conn.execute(select(wallet_authorizations).where(wallet_authorizations.c.id == hold_id)).one()._mapping
    return {"transfer": tuple(transfer), "entries": [tuple(r) for r in entries],
            "authorization": {k: v for k, v in auth.items() if k not in ("id", "created_at")}}


def alerts(engine) -> list[dict]:
    with engine.connect() as conn:
        payloads = [json.loads(p) for p in conn.execute(select(outbox.table.c.payload).order_by(outbox.table.c.seq)).scalars()]
    return [p["body"] for p in payloads if p.get("type", "").startswith("WalletBalanceAlert")]


def test_it_writes_what_the_thread_pool_path_writes_alert_included(engine):
    books, woken = SqlLedger(ledger), []
    funded_wallet(engine, books, 1000, low_balance=500)

    async def scenario():
        authorizer = authorizer_for(engine, books, woken)
        await authorizer.open()
        try:
            return await authorizer.authorize(T, "dev-1", CUSTOMER, Money(300, "EUR"), TTL, "meter-7", NOW), \
                   await authorizer.authorize(T, "dev-2", CUSTOMER, Money(300, "EUR"), TTL, "meter-7", NOW)
        finally:
            await authorizer.close()

    first, second = asyncio.run(scenario())
    assert woken == [1]  # the second crossed the threshold: its alert row is there and the relay was woken
    third = prepaid.authorize(engine, books, T, "py-3", CUSTOMER, Money(300, "EUR"), TTL, "meter-7", NOW)
    assert written(engine, first["id"]) == written(engine, third["id"])  # same transfer, entries and authorization row
    assert {k: v for k, v in first.items() if k != "id"} == {k: v for k, v in third.items() if k != "id"}
    assert [a["level"] for a in alerts(engine)] == ["low"]
    assert alerts(engine)[0] == {"customer_id": CUSTOMER, "currency": "EUR", "level": "low", "available_minor": 400,
                                 "threshold_minor": 500, "unpaid_minor": 0}
    view = prepaid.wallet_view(engine, books, T, CUSTOMER, "EUR")
    assert (view["held_minor"], view["available_minor"], view["open_authorizations"]) == (900, 100, 3)
    with engine.connect() as conn:
        assert books.check_invariants(conn, T) == []


def test_racing_authorizations_never_reserve_more_than_the_wallet_holds(engine):
    books, woken = SqlLedger(ledger), []
    balance, amount, attempts = 1000, 70, 30
    funded_wallet(engine, books, balance, low_balance=500)

    async def one(authorizer, key: str):
        made = await authorizer.authorize(T, key, CUSTOMER, Money(amount, "EUR"), TTL, None, NOW)
        if made is not None:
            return made["id"]
        try:  # handed back (too little left): the thread-pool path gives the precise answer, as the endpoint does
            return (await asyncio.to_thread(prepaid.authorize, engine, books, T, key, CUSTOMER, Money(amount, "EUR"), TTL, None, NOW))["id"]
        except InsufficientFunds:
            return "refused"

    async def race():
        authorizer = authorizer_for(engine, books, woken)
        await authorizer.open()
        try:
            return await asyncio.gather(*(one(authorizer, f"k{i}") for i in range(attempts)))
        finally:
            await authorizer.close()

    outcomes = asyncio.run(race())
    accepted = balance // amount
    assert len(outcomes) - outcomes.count("refused") == accepted
    view = prepaid.wallet_view(engine, books, T, CUSTOMER, "EUR")
    assert (view["held_minor"], view["available_minor"], view["open_authorizations"]) == (accepted * amount, balance - accepted * amount, accepted)
    assert [a["level"] for a in alerts(engine)] == ["low"]
    with engine.connect() as conn:
        assert books.check_invariants(conn, T) == []


def test_what_it_does_not_decide_is_handed_back_with_nothing_written(engine):
    books, woken = SqlLedger(ledger), []

    async def attempt(authorizer, key: str, minor: int, customer: str = CUSTOMER):
        return await authorizer.authorize(T, key, customer, Money(minor, "EUR"), TTL, None, NOW)

    async def scenario():
        authorizer = authorizer_for(engine, books, woken)
        await authorizer.open()
        try:
            unseen = await attempt(authorizer, "a", 10)  # accounts this process has not seen: maybe not opened yet
            funded_wallet(engine, books, 100)
            made = await attempt(authorizer, "b", 60)
            retried = await attempt(authorizer, "b", 60)  # a recorded key: the Python path answers with its authorization
            too_much = await attempt(authorizer, "c", 50)  # 40 left
            return unseen, made, retried, too_much
        finally:
            await authorizer.close()

    unseen, made, retried, too_much = asyncio.run(scenario())
    assert unseen is None and retried is None and too_much is None
    assert made is not None
    with engine.connect() as conn:
        assert conn.execute(select(wallet_authorizations.c.id)).scalars().all() == [made["id"]]
        assert books.check_invariants(conn, T) == []
    assert prepaid.authorize(engine, books, T, "b", CUSTOMER, Money(60, "EUR"), TTL, None, NOW)["id"] == made["id"]
    with pytest.raises(InsufficientFunds):
        prepaid.authorize(engine, books, T, "c", CUSTOMER, Money(50, "EUR"), TTL, None, NOW)
    assert prepaid.wallet_view(engine, books, T, CUSTOMER, "EUR")["available_minor"] == 40
    assert woken == []
