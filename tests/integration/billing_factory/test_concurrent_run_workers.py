"""Two billing-factory workers bill one run at once on PostgreSQL: while one holds a chunk, the other bills
the next; every subscription-period is billed once, the run completes once, and its totals add up."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from libs.contracts.envelope import decode
from libs.contracts.events import BillingRunCompleted, InvoiceRequested
from services.billing_factory.adapters.metadata import metadata
from services.billing_factory.adapters.tables import billed_periods, outbox
from services.billing_factory.app import catalog, customers, runs
from services.billing_factory.bootstrap import MIGRATIONS
from services.billing_factory.entrypoints import schemas
from tests.support.pg import drop_engine, fresh_engine

TENANT = "ten_runs"
START, AS_OF = datetime(2026, 9, 1, tzinfo=timezone.utc), datetime(2026, 10, 1, tzinfo=timezone.utc)
PLAN = {"code": "flat", "name": "Flat", "currency": "EUR", "interval": "month",
        "charges": [{"code": "base", "name": "Grundgebühr", "model": "flat_fee", "amount": "10.00"}]}


@pytest.fixture
def engine():
    eng = fresh_engine(metadata, MIGRATIONS, "runs", pool_size=10)
    yield eng
    drop_engine(eng)


def subscribe(engine, count: int) -> None:
    catalog.create_plan(engine, TENANT, schemas.PlanIn(**PLAN).model_dump(mode="json"))
    for i in range(count):
        customers.create_customer(engine, TENANT, schemas.CustomerIn(external_id=f"c-{i}", name=f"Kunde {i}").model_dump())
        catalog.create_subscription(engine, TENANT, f"c-{i}", "flat", START, None)


def messages(engine) -> list:
    with engine.connect() as conn:
        return [decode(raw)[1] for raw in conn.execute(select(outbox.table.c.payload).order_by(outbox.table.c.seq)).scalars()]


def check_billed_once(engine, run_id: str, count: int) -> None:
    run = runs.get_run(engine, TENANT, run_id)
    assert (run["status"], run["subscriptions_total"], run["subscriptions_done"], run["invoices_requested"]) == ("completed", count, count, count)
    sent = messages(engine)
    requested = Counter(m.subscription_id for m in sent if isinstance(m, InvoiceRequested))
    assert len(requested) == count and set(requested.values()) == {1}, "each subscription's period is requested once"
    completed = [m for m in sent if isinstance(m, BillingRunCompleted)]
    assert [(m.billing_run_id, m.invoices_requested) for m in completed] == [(run_id, count)], "the run completes once"
    with engine.connect() as conn:
        rows, net = conn.execute(select(func.count(), func.sum(billed_periods.c.net_minor)).where(billed_periods.c.billing_run_id == run_id)).one()
    assert (rows, net) == (count, count * 1000)


def test_a_second_worker_bills_other_chunks_while_the_first_holds_one(engine, monkeypatch):
    subscribe(engine, 7)
    run = runs.start_run(engine, TENANT, AS_OF, datetime.now(timezone.utc))
    holding, release, bill = threading.Event(), threading.Event(), runs._bill
    first = []

    def slow_first_chunk(conn, *args):
        if not first:
            first.append(threading.current_thread().name)
            holding.set()
            assert release.wait(20), "the test did not release the first chunk"
        return bill(conn, *args)

    monkeypatch.setattr(runs, "_bill", slow_first_chunk)
    a = threading.Thread(target=runs.advance_run, args=(engine, TENANT, run["id"], 2), name="a")
    a.start()
    assert holding.wait(10)
    b_done = threading.Event()

    def second_worker():
        runs.advance_run(engine, TENANT, run["id"], 2)
        b_done.set()

    b = threading.Thread(target=second_worker, name="b", daemon=True)
    b.start()
    try:
        assert b_done.wait(10), "the second worker waited for the first one's chunk instead of billing another"
        assert runs.get_run(engine, TENANT, run["id"])["subscriptions_done"] == 2  # b's chunk; a's is not committed yet
    finally:
        release.set()
        a.join(20)
        b.join(20)
    while runs.advance_run(engine, TENANT, run["id"], 2):
        pass
    check_billed_once(engine, run["id"], 7)


@pytest.mark.parametrize("chunk", [1, 3, 5])  # 5 divides the 20 subscriptions: the last chunk claimed is empty
def test_workers_racing_through_one_run_bill_each_subscription_once(engine, chunk):
    subscribe(engine, 20)
    run = runs.start_run(engine, TENANT, AS_OF, datetime.now(timezone.utc))
    go, errors = threading.Barrier(4), []

    def worker():
        try:
            go.wait()
            while runs.advance_run(engine, TENANT, run["id"], chunk) or runs.get_run(engine, TENANT, run["id"])["status"] == "running":
                pass
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    check_billed_once(engine, run["id"], 20)


def test_a_chunk_claimed_by_a_worker_that_died_is_billed_by_the_next_one(engine, monkeypatch):
    subscribe(engine, 5)
    run = runs.start_run(engine, TENANT, AS_OF, datetime.now(timezone.utc))

    def dies(*_args):
        raise RuntimeError("the worker's process dies while billing")

    monkeypatch.setattr(runs, "_bill", dies)
    with pytest.raises(RuntimeError):
        runs.advance_run(engine, TENANT, run["id"], 2)
    monkeypatch.undo()
    assert runs.get_run(engine, TENANT, run["id"])["subscriptions_done"] == 0
    while runs.advance_run(engine, TENANT, run["id"], 2):
        pass
    check_billed_once(engine, run["id"], 5)


def test_a_request_whose_only_chunk_a_run_worker_claimed_first_answers_completed_once_the_worker_commits(engine, monkeypatch):
    """`run_billing` finds nothing left to claim while the run worker still bills the run's only chunk: it waits for
    that worker instead of answering "running" for a run that fits its synchronous budget."""
    subscribe(engine, 1)
    held, request_found_nothing = threading.Event(), threading.Event()
    real_start, real_claim = runs.start_run, runs._claim
    worker_errors: list[BaseException] = []

    def worker(run_id: str) -> None:
        """The background run worker: claims the chunk first and holds it until the request has given up claiming."""
        try:
            seq = real_claim(engine, TENANT, run_id, runs.CHUNK)
            with engine.begin() as conn:
                chunk = runs.billing_run_chunks.c
                conn.execute(select(runs.billing_run_chunks).where(chunk.tenant_id == TENANT, chunk.run_id == run_id, chunk.seq == seq)
                             .with_for_update())
                held.set()
                assert request_found_nothing.wait(30)
            assert runs._bill_chunk(engine, TENANT, run_id, seq) == "completed"
        except BaseException as exc:  # reported by the test thread
            worker_errors.append(exc)
            held.set()

    def start_then_worker_claims(*args, **kwargs):
        run = real_start(*args, **kwargs)
        threading.Thread(target=worker, args=(run["id"],), daemon=True).start()
        assert held.wait(30)
        return run

    def claim_of_the_request(*args, **kwargs):
        seq = real_claim(*args, **kwargs)
        if seq is None:
            request_found_nothing.set()
        return seq

    monkeypatch.setattr(runs, "start_run", start_then_worker_claims)
    monkeypatch.setattr(runs, "_claim", claim_of_the_request)
    result = runs.run_billing(engine, TENANT, AS_OF, chunks_now=1)
    assert not worker_errors, worker_errors
    assert request_found_nothing.is_set()  # the request really found the chunk taken
    assert result["status"] == "completed"
    check_billed_once(engine, result["id"], 1)
