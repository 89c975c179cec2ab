"""Ledger transfers per second on PostgreSQL, beside a plain one-row INSERT per transaction in the same run,
and a hot prepaid wallet taking 100 concurrent debits that must never overdraw.

Three ways to write measured on the same schema:
- baseline: one plain INSERT per transaction (what the database alone does with a commit each);
- per-transfer commit: SqlLedger.transfer in its own transaction per caller;
- group commit: GroupCommitWriter, many callers share a transaction; a caller gets its result only after the commit,
  so every acknowledged transfer is as durable as with a commit of its own.

Run against the local servers: CLOUDBILL_PG_URL=... .venv/bin/python -m bench.ledger_bench
(deploy/bench.sh starts PostgreSQL with fsync on for this).
"""

from __future__ import annotations

import os
import random
import threading
import time
import uuid

from sqlalchemy import text

from bench.common import save
from libs.platform.db import make_engine
from libs.platform.migrations import prepare_schema
from services.payment_factory.adapters.group_commit import GroupCommitWriter
from services.payment_factory.adapters.metadata import metadata
from services.payment_factory.adapters.sql_ledger import SqlLedger
from services.payment_factory.adapters.tables import ledger as ledger_tables
from services.payment_factory.bootstrap import MIGRATIONS
from services.payment_factory.domain.ledger import Leg, TransferRequest
from services.payment_factory.domain.ledger_accounts import AccountPurpose, AccountSpec
from services.payment_factory.domain.ledger_errors import InsufficientFunds

THREADS = 8
PER_THREAD = 300
CALLERS = int(os.environ.get("LEDGER_BENCH_CALLERS", "256"))  # concurrent callers, each waiting for its own result
PER_CALLER = 12_800 // CALLERS  # the same total whatever the concurrency
WRITERS = int(os.environ.get("LEDGER_BENCH_WRITERS", "1"))
T = "bench"


def run_threads(count: int, work) -> float:
    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def hot_wallet(engine, books: SqlLedger, debit_one, tag: str) -> dict:
    with engine.begin() as conn:
        wallet = books.open_account(conn, T, AccountSpec(f"hot-{tag}", AccountPurpose.PREPAID_WALLET, "EUR")).id
        source = books.open_account(conn, T, AccountSpec("topups", AccountPurpose.BANK, "EUR")).id
        sink = books.open_account(conn, T, AccountSpec("consumption", AccountPurpose.REVENUE, "EUR")).id
        books.transfer(conn, T, TransferRequest(f"hot-seed-{tag}", (Leg(source, wallet, 5_000, "EUR"),)))
    outcomes: list[bool] = []
    barrier = threading.Barrier(100)

    def debit(i: int) -> None:
        barrier.wait()
        try:
            debit_one(TransferRequest(f"hot-{tag}-{i}", (Leg(wallet, sink, 70, "EUR"),)))
            outcomes.append(True)
        except InsufficientFunds:
            outcomes.append(False)

    seconds = run_threads(100, debit)
    with engine.connect() as conn:
        b = books.balance(conn, T, wallet)
    return {"debits": 100, "accepted": outcomes.count(True), "refused": outcomes.count(False),
            "balance_minor": b.credits_posted - b.debits_posted, "seconds": seconds}


def main() -> None:
    schema = f"bench_{uuid.uuid4().hex[:6]}"
    engine = make_engine(os.environ["CLOUDBILL_PG_URL"], schema, pool_size=max(THREADS, 100) + 4)
    prepare_schema(engine, metadata, MIGRATIONS, schema)
    books = SqlLedger(ledger_tables)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE TABLE "{schema}".plain_rows (id bigserial primary key, tenant text, amount bigint)'))
        accounts = [books.open_account(conn, T, AccountSpec(f"acct-{i}", AccountPurpose.CUSTOMER_RECEIVABLE, "EUR")).id for i in range(200)]

    def plain(worker: int) -> None:
        for _ in range(PER_THREAD):
            with engine.begin() as conn:
                conn.execute(text(f"INSERT INTO \"{schema}\".plain_rows (tenant, amount) VALUES ('bench', 1)"))

    def request(rnd: random.Random, key: str) -> TransferRequest:
        a, b = rnd.sample(accounts, 2)
        return TransferRequest(key, (Leg(a, b, rnd.randint(1, 10_000), "EUR"),))

    def single(worker: int) -> None:
        rnd = random.Random(worker)
        for i in range(PER_THREAD):
            with engine.begin() as conn:
                books.transfer(conn, T, request(rnd, f"s{worker}-{i}"))

    writer = GroupCommitWriter(engine, ledger_tables, writers=WRITERS, max_batch=500)

    def grouped(caller: int) -> None:
        rnd = random.Random(1000 + caller)
        for i in range(PER_CALLER):
            writer.transfer(T, request(rnd, f"g{caller}-{i}"))

    base_s = run_threads(THREADS, plain)
    single_s = run_threads(THREADS, single)
    group_s = run_threads(CALLERS, grouped)
    n_single, n_group = THREADS * PER_THREAD, CALLERS * PER_CALLER
    batches = writer.batches

    def own_commit(req):
        with engine.begin() as conn:
            books.transfer(conn, T, req)

    hot_single = hot_wallet(engine, books, own_commit, "single")
    hot_group = hot_wallet(engine, books, lambda req: writer.transfer(T, req), "group")
    writer.close()
    with engine.connect() as conn:
        fsync = conn.execute(text("SHOW fsync")).scalar()
        sync_commit = conn.execute(text("SHOW synchronous_commit")).scalar()
        violations = books.check_invariants(conn, T)
    baseline = n_single / base_s
    summary = (f"ledger, group commit: {n_group / group_s:,.0f} transfers/s ({CALLERS} callers each waiting for its commit, "
               f"{n_group} transfers in {batches} transactions by {WRITERS} writers); per-transfer commit: {n_single / single_s:,.0f} transfers/s "
               f"({THREADS} threads); baseline plain INSERT per commit: {baseline:,.0f} tx/s ({THREADS} threads); "
               f"target >= 2,000/s; fsync={fsync}, synchronous_commit={sync_commit}\n"
               f"hot wallet (100 concurrent debits of 0.70 on 50.00): own commit -> {hot_single['accepted']} accepted, "
               f"{hot_single['refused']} refused, balance {hot_single['balance_minor']}, {hot_single['seconds'] * 1000:.0f} ms; "
               f"group commit -> {hot_group['accepted']} accepted, {hot_group['refused']} refused, balance {hot_group['balance_minor']}, "
               f"{hot_group['seconds'] * 1000:.0f} ms; invariant violations: {len(violations)}")
    save("ledger", {"group_commit": {"transfers": n_group, "callers": CALLERS, "writers": WRITERS, "transactions": batches,
                                     "transfers_per_second": n_group / group_s},
                    "per_transfer_commit": {"transfers": n_single, "threads": THREADS, "transfers_per_second": n_single / single_s},
                    "baseline_inserts_per_second": baseline, "fsync": fsync, "synchronous_commit": sync_commit,
                    "hot_wallet": {"own_commit": hot_single, "group_commit": hot_group},
                    "invariant_violations": violations, "target": 2000}, summary)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
