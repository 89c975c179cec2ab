"""The batch write path and the group-commit writer keep every ledger rule: overdraft, idempotency, invariants."""

import random
import threading

import pytest

from services.payment_factory.adapters.group_commit import GroupCommitWriter
from services.payment_factory.adapters.ledger_batch import transfer_batch
from services.payment_factory.domain.ledger import Leg, TransferRequest
from services.payment_factory.domain.ledger_accounts import AccountPurpose, AccountSpec, Balance
from services.payment_factory.domain.ledger_errors import InsufficientFunds

T = "tenant-g"


def accounts(engine, ledger):
    with engine.begin() as conn:
        bank = ledger.open_account(conn, T, AccountSpec("bank", AccountPurpose.BANK, "EUR")).id
        wallet = ledger.open_account(conn, T, AccountSpec("wallet", AccountPurpose.PREPAID_WALLET, "EUR")).id
        rev = ledger.open_account(conn, T, AccountSpec("rev", AccountPurpose.REVENUE, "EUR")).id
        usd = ledger.open_account(conn, T, AccountSpec("usd", AccountPurpose.REVENUE, "USD")).id
        ledger.transfer(conn, T, TransferRequest("topup", [Leg(bank, wallet, 100, "EUR")]))
    return bank, wallet, rev, usd


def test_a_batch_decides_each_request_on_what_the_batch_accepted_before_it(engine, ledger, clock):
    bank, wallet, rev, usd = accounts(engine, ledger)
    requests = [TransferRequest("a", [Leg(wallet, rev, 60, "EUR")]),
                TransferRequest("b", [Leg(wallet, rev, 60, "EUR")]),  # only 40 left
                TransferRequest("a", [Leg(wallet, rev, 60, "EUR")]),  # a repeat inside the batch
                TransferRequest("a", [Leg(wallet, rev, 1, "EUR")]),  # same key, other body
                TransferRequest("c", [Leg(wallet, usd, 10, "EUR")]),
                TransferRequest("d", [Leg(wallet, "acc-nope", 10, "EUR")]),
                TransferRequest("e", [Leg(wallet, rev, 40, "EUR")])]
    with engine.begin() as conn:
        results = transfer_batch(conn, ledger.t, clock, T, requests)
    assert [type(r).__name__ for r in results] == ["Transfer", "InsufficientFunds", "Transfer", "IdempotencyConflict",
                                                   "CurrencyMismatch", "UnknownAccount", "Transfer"]
    assert results[2].id == results[0].id
    with engine.begin() as conn:
        again = transfer_batch(conn, ledger.t, clock, T, [requests[0]])[0]
        assert again.id == results[0].id and again.replayed
        assert ledger.balance(conn, T, wallet) == Balance(100, 100)
        assert ledger.check_invariants(conn, T) == []


def test_many_callers_through_the_group_writer_never_overdraw_and_stay_balanced(engine, ledger, clock):
    if engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers are proven on the real database")
    bank, wallet, rev, _ = accounts(engine, ledger)
    with engine.begin() as conn:
        others = [ledger.open_account(conn, T, AccountSpec(f"c{i}", AccountPurpose.CUSTOMER_RECEIVABLE, "EUR")).id for i in range(20)]
    writer = GroupCommitWriter(engine, ledger.t, clock, writers=3, max_batch=50)
    outcomes: list[str] = []

    def caller(n: int) -> None:
        rnd = random.Random(n)
        for i in range(30):
            if i % 3 == 0:
                req = TransferRequest(f"w{n}-{i}", [Leg(wallet, rev, 7, "EUR")])
            else:
                a, b = rnd.sample(others, 2)
                req = TransferRequest(f"x{n}-{i}", [Leg(a, b, rnd.randint(1, 500), "EUR"), Leg(b, bank, 3, "EUR")])
            try:
                writer.transfer(T, req)
                outcomes.append("wallet" if i % 3 == 0 else "ok")
            except InsufficientFunds:
                outcomes.append("refused")

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    assert outcomes.count("wallet") == 100 // 7 and outcomes.count("refused") == 200 - 100 // 7
    assert outcomes.count("ok") == 400
    assert writer.batches < 600  # callers really shared transactions
    with engine.connect() as conn:
        assert ledger.balance(conn, T, wallet) == Balance(100 // 7 * 7, 100)
        assert ledger.check_invariants(conn, T) == []




def test_a_later_batch_replays_a_recorded_key_with_its_original_time_and_metadata(engine, ledger, clock):
    bank, wallet, rev, _ = accounts(engine, ledger)
    first = TransferRequest("meta-1", [Leg(wallet, rev, 30, "EUR")], {"order": "o-1", "lines": [1, 2], "note": "Grüße"})
    with engine.begin() as conn:
        [original] = transfer_batch(conn, ledger.t, clock, T, [first])
    clock.advance(seconds=90)  # the replay answers the original time, not now
    with engine.begin() as conn:
        replay, fresh = transfer_batch(conn, ledger.t, clock, T, [first, TransferRequest("meta-2", [Leg(wallet, rev, 5, "EUR")])])
    assert (replay.id, replay.created_at, dict(replay.metadata), replay.replayed) == \
        (original.id, original.created_at, {"order": "o-1", "lines": [1, 2], "note": "Grüße"}, True)
    assert fresh.id != original.id and not fresh.replayed
    with engine.connect() as conn:
        assert ledger.balance(conn, T, wallet) == Balance(35, 100)
        assert ledger.check_invariants(conn, T) == []


def test_a_batch_never_touches_another_tenants_account(engine, ledger, clock):
    bank, wallet, rev, _ = accounts(engine, ledger)
    with engine.begin() as conn:
        foreign = ledger.open_account(conn, "tenant-other", AccountSpec("rev", AccountPurpose.REVENUE, "EUR")).id
    with engine.begin() as conn:
        refused, ok = transfer_batch(conn, ledger.t, clock, T, [TransferRequest("x-1", [Leg(wallet, foreign, 10, "EUR")]),
                                                                TransferRequest("x-2", [Leg(wallet, rev, 10, "EUR")])])
    assert type(refused).__name__ == "UnknownAccount" and not isinstance(ok, Exception)
    with engine.connect() as conn:
        assert ledger.balance(conn, "tenant-other", foreign) == Balance()
        assert ledger.balance(conn, T, wallet) == Balance(10, 100)
