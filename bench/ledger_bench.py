"""Ledger transfers per second on PostgreSQL, beside a plain one-row INSERT per transaction in the same run,
and a hot prepaid wallet taking 100 concurrent debits that must never overdraw.

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
from services.payment_factory.adapters import tables  # noqa: F401
from services.payment_factory.adapters.double_entry import InsufficientFunds, Leg, balance, invariant_violations, open_account, transfer
from services.payment_factory.adapters.metadata import metadata
from services.payment_factory.bootstrap import MIGRATIONS

THREADS = 8
PER_THREAD = 500


def run_threads(work) -> float:
    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def main() -> None:
    schema = f"bench_{uuid.uuid4().hex[:6]}"
    engine = make_engine(os.environ["CLOUDBILL_PG_URL"], schema, pool_size=THREADS + 2)
    prepare_schema(engine, metadata, MIGRATIONS, schema)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE TABLE "{schema}".plain_rows (id bigserial primary key, tenant text, amount bigint)'))
        accounts = [open_account(conn, "bench", f"acct-{i}", "customer", "EUR") for i in range(200)]

    def plain(worker: int) -> None:
        for _ in range(PER_THREAD):
            with engine.begin() as conn:
                conn.execute(text(f"INSERT INTO \"{schema}\".plain_rows (tenant, amount) VALUES ('bench', 1)"))

    def transfers(worker: int) -> None:
        rnd = random.Random(worker)
        for i in range(PER_THREAD):
            a, b = rnd.sample(accounts, 2)
            with engine.begin() as conn:
                transfer(conn, "bench", f"w{worker}-{i}", "EUR", [Leg(a, b, rnd.randint(1, 10_000))])

    base_s = run_threads(plain)
    xfer_s = run_threads(transfers)
    n = THREADS * PER_THREAD

    with engine.begin() as conn:
        wallet = open_account(conn, "bench", "hot-wallet", "wallet", "EUR", no_overdraft=True)
        source = open_account(conn, "bench", "topups", "bank", "EUR")
        sink = open_account(conn, "bench", "consumption", "revenue", "EUR")
        transfer(conn, "bench", "hot-seed", "EUR", [Leg(source, wallet, 5_000)])
    outcomes: list[bool] = []

    def debit(i: int) -> None:
        try:
            with engine.begin() as conn:
                transfer(conn, "bench", f"hot-{i}", "EUR", [Leg(wallet, sink, 70)])
            outcomes.append(True)
        except InsufficientFunds:
            outcomes.append(False)

    hot = [threading.Thread(target=debit, args=(i,)) for i in range(100)]
    t0 = time.perf_counter()
    for t in hot:
        t.start()
    for t in hot:
        t.join()
    hot_s = time.perf_counter() - t0
    with engine.connect() as conn:
        debits, credits = balance(conn, wallet)
        fsync = conn.execute(text("SHOW fsync")).scalar()
        violations = invariant_violations(conn, "bench")
    summary = (f"ledger: {n / xfer_s:,.0f} transfers/s ({THREADS} threads, {n} transfers, 2 entries each); baseline plain INSERT: "
               f"{n / base_s:,.0f} tx/s; ratio {base_s / xfer_s:.2f}; target >= 2,000/s; fsync={fsync}\n"
               f"hot wallet: 100 concurrent debits of 0.70 on 50.00 -> {outcomes.count(True)} accepted, {outcomes.count(False)} refused, "
               f"balance {credits - debits} (never below 0), {hot_s * 1000:.0f} ms; invariant violations: {len(violations)}")
    save("ledger", {"transfers": n, "threads": THREADS, "transfers_per_second": n / xfer_s, "baseline_inserts_per_second": n / base_s,
                    "fsync": fsync, "hot_wallet": {"debits": 100, "accepted": outcomes.count(True), "balance_minor": credits - debits,
                                                   "seconds": hot_s}, "invariant_violations": violations, "target": 2000}, summary)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
