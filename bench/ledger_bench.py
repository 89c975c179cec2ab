"""Ledger transfers per second on PostgreSQL, burst and sustained for a minute, beside a plain one-row INSERT per
transaction measured in the same run, and a hot prepaid wallet taking 100 concurrent debits that must never overdraw.

Measured on one schema, one after another:
- baseline: one plain INSERT per transaction, 8 threads for BASELINE_SECONDS (what the database alone does with a commit each);
- per-transfer commit: SqlLedger.transfer in its own transaction, 8 threads for the same time;
- group commit, burst: 12,800 transfers by 256 callers through GroupCommitWriter (many callers share a transaction;
  a caller gets its result only after the commit, so every acknowledged transfer is as durable as with a commit of
  its own);
- group commit, sustained: the same 256 callers without pause for SUSTAINED_SECONDS (60 by default), on the tables the
  burst already filled; transfers per second over the whole time, per second, and each caller's latency (p50, p99);
- wallet charges as the payment factory takes them (`app.wallet.charge`: the wallet and revenue ids remembered after
  their first opening, the transfer through the same writer, the wallet's balance read after the commit), CALLERS
  callers on their own wallets for WALLET_SECONDS (20 by default);
- the hot wallet, with own commits and through the writer;
- the ledger invariants over everything written, printed as the number of violations (must be 0).

Run against a durable PostgreSQL the way deploy/bench.sh does (fsync on), e.g. only the database:
  CLOUDBILL_STATE_DIR=.state/bench-infra CLOUDBILL_PG_DURABLE=1 bash deploy/local/stack.sh up postgres
  set -a; source .state/bench-infra/env; set +a; .venv/bin/python -m bench.ledger_bench
About two minutes. LEDGER_BENCH_SUSTAINED_SECONDS, LEDGER_BENCH_CALLERS and LEDGER_BENCH_WRITERS change the setup.
"""

from __future__ import annotations

import os
import random
import threading
import time
import uuid

from sqlalchemy import text

from bench.common import RESULTS, save
from libs.platform.db import make_engine
from libs.platform.migrations import prepare_schema
from libs.money import Money
from services.payment_factory.adapters.group_commit import GroupCommitWriter
from services.payment_factory.adapters.metadata import metadata
from services.payment_factory.adapters.sql_ledger import SqlLedger
from services.payment_factory.adapters.tables import ledger as ledger_tables
from services.payment_factory.app import wallet as wallet_app
from services.payment_factory.bootstrap import MIGRATIONS
from services.payment_factory.domain.ledger import Leg, TransferRequest
from services.payment_factory.domain.ledger_accounts import AccountPurpose, AccountSpec
from services.payment_factory.domain.ledger_errors import InsufficientFunds

THREADS = 8
BASELINE_SECONDS = float(os.environ.get("LEDGER_BENCH_BASELINE_SECONDS", "10"))
WALLET_SECONDS = float(os.environ.get("LEDGER_BENCH_WALLET_SECONDS", "20"))
SUSTAINED_SECONDS = float(os.environ.get("LEDGER_BENCH_SUSTAINED_SECONDS", "60"))
CALLERS = int(os.environ.get("LEDGER_BENCH_CALLERS", "256"))  # concurrent callers, each waiting for its own result
BURST = 12_800
WRITERS = int(os.environ.get("LEDGER_BENCH_WRITERS", "1"))
ACCOUNTS = 200
T = "bench"


def run_threads(count: int, work) -> float:
    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(p / 100 * len(sorted_values)))]


def for_seconds(count: int, seconds: float, one) -> dict:
    """`count` threads call one(thread, i) back to back until `seconds` are over; completions per second and latencies."""
    latencies: list[list[float]] = [[] for _ in range(count)]
    finished_at: list[list[float]] = [[] for _ in range(count)]
    start = time.perf_counter() + 0.05
    stop = start + seconds

    def work(worker: int) -> None:
        own, done = latencies[worker], finished_at[worker]
        while time.perf_counter() < start:
            time.sleep(0.001)
        i = 0
        while (t0 := time.perf_counter()) < stop:
            one(worker, i)
            t1 = time.perf_counter()
            own.append(t1 - t0)
            done.append(t1 - start)
            i += 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start  # the calls in flight at `stop` finish and count: divide by the time they took
    all_latencies = sorted(x for own in latencies for x in own)
    per_second = [0] * (int(elapsed) + 1)
    for done in finished_at:
        for at in done:
            per_second[int(at)] += 1
    n = len(all_latencies)
    return {"count": n, "seconds": elapsed, "per_second": n / elapsed, "threads": count,
            "latency_ms": {"p50": percentile(all_latencies, 50) * 1000, "p99": percentile(all_latencies, 99) * 1000,
                           "max": (all_latencies[-1] if all_latencies else float("nan")) * 1000},
            "timeline": per_second[:int(seconds)]}


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
            "balance_minor": b.credits_posted - b.debits_posted, "never_overdrawn": b.credits_posted - b.debits_posted >= 0,
            "seconds": seconds}


def chart(sustained: dict, baseline: dict, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot(range(1, len(sustained["timeline"]) + 1), sustained["timeline"], label="ledger transfers/s (group commit)")
    ax.axhline(baseline["per_second"], color="grey", linestyle="--", label="plain INSERT + commit/s (baseline, same run)")
    ax.axhline(2000, color="red", linestyle=":", label="target 2,000/s")
    ax.set_xlabel("second of the sustained run")
    ax.set_ylabel("per second")
    ax.set_ylim(bottom=0)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Ledger, sustained, PostgreSQL fsync on")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    schema = f"bench_{uuid.uuid4().hex[:6]}"
    engine = make_engine(os.environ["CLOUDBILL_PG_URL"], schema, pool_size=max(THREADS, 100) + 4)
    prepare_schema(engine, metadata, MIGRATIONS, schema)
    books = SqlLedger(ledger_tables)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE TABLE "{schema}".plain_rows (id bigserial primary key, tenant text, amount bigint)'))
        accounts = [books.open_account(conn, T, AccountSpec(f"acct-{i}", AccountPurpose.CUSTOMER_RECEIVABLE, "EUR")).id
                    for i in range(ACCOUNTS)]

    def plain(worker: int, i: int) -> None:
        with engine.begin() as conn:
            conn.execute(text(f"INSERT INTO \"{schema}\".plain_rows (tenant, amount) VALUES ('bench', 1)"))

    rnds = {}

    def request(key: str, stream: int) -> TransferRequest:
        rnd = rnds.setdefault(stream, random.Random(stream))
        a, b = rnd.sample(accounts, 2)
        return TransferRequest(key, (Leg(a, b, rnd.randint(1, 10_000), "EUR"),))

    def single(worker: int, i: int) -> None:
        with engine.begin() as conn:
            books.transfer(conn, T, request(f"s{worker}-{i}", worker))

    writer = GroupCommitWriter(engine, ledger_tables, writers=WRITERS, max_batch=500)
    per_caller = BURST // CALLERS

    def burst(caller: int) -> None:
        for i in range(per_caller):
            writer.transfer(T, request(f"b{caller}-{i}", 1000 + caller))

    def grouped(caller: int, i: int) -> None:
        writer.transfer(T, request(f"g{caller}-{i}", 100_000 + caller))

    baseline = for_seconds(THREADS, BASELINE_SECONDS, plain)
    per_transfer = for_seconds(THREADS, BASELINE_SECONDS, single)
    batches0 = writer.batches
    burst_s = run_threads(CALLERS, burst)
    burst_batches = writer.batches - batches0
    batches0 = writer.batches
    sustained = for_seconds(CALLERS, SUSTAINED_SECONDS, grouped)
    sustained["transactions"] = writer.batches - batches0

    customers = [f"w{i}" for i in range(CALLERS)]
    for customer in customers:
        wallet_app.top_up(engine, books, T, f"top-{customer}", customer, Money(10**12, "EUR"), "cash")

    def wallet_charge(caller: int, i: int) -> None:
        wallet_app.charge(engine, books, writer, T, f"wc{caller}-{i}", customers[caller], Money(1 + i % 100, "EUR"), "bench")

    batches0 = writer.batches
    wallet = for_seconds(CALLERS, WALLET_SECONDS, wallet_charge)
    wallet["transactions"] = writer.batches - batches0

    def own_commit(req):
        with engine.begin() as conn:
            books.transfer(conn, T, req)

    hot_single = hot_wallet(engine, books, own_commit, "single")
    hot_group = hot_wallet(engine, books, lambda req: writer.transfer(T, req), "group")
    writer.close()
    with engine.connect() as conn:
        fsync = conn.execute(text("SHOW fsync")).scalar()
        sync_commit = conn.execute(text("SHOW synchronous_commit")).scalar()
        transfers_total = conn.execute(text(f'SELECT count(*) FROM "{schema}".ledger_transfers')).scalar()
        t0 = time.perf_counter()
        violations = books.check_invariants(conn, T)
        check_s = time.perf_counter() - t0
    n_burst = CALLERS * per_caller
    timeline = sustained["timeline"]
    summary = (
        f"ledger, sustained {SUSTAINED_SECONDS:.0f} s, group commit: {sustained['per_second']:,.0f} transfers/s "
        f"({sustained['count']:,} transfers, {CALLERS} callers each waiting for its commit, {sustained['transactions']} transactions "
        f"by {WRITERS} writer(s); slowest second {min(timeline) if timeline else 0:,}/s, fastest {max(timeline) if timeline else 0:,}/s); "
        f"caller latency p50 {sustained['latency_ms']['p50']:.0f} ms, p99 {sustained['latency_ms']['p99']:.0f} ms\n"
        f"baseline plain INSERT per commit, same run: {baseline['per_second']:,.0f} tx/s ({THREADS} threads, {BASELINE_SECONDS:.0f} s; "
        f"p50 {baseline['latency_ms']['p50']:.1f} ms, p99 {baseline['latency_ms']['p99']:.1f} ms); "
        f"ledger sustained / baseline = {sustained['per_second'] / baseline['per_second']:.2f}\n"
        f"burst, group commit: {n_burst / burst_s:,.0f} transfers/s ({n_burst} transfers in {burst_batches} transactions); "
        f"per-transfer commit: {per_transfer['per_second']:,.0f} transfers/s ({THREADS} threads, {BASELINE_SECONDS:.0f} s); "
        f"target >= 2,000/s; fsync={fsync}, synchronous_commit={sync_commit}\n"
        f"wallet charges as the payment factory takes them (app.wallet.charge, {CALLERS} callers, {WALLET_SECONDS:.0f} s): "
        f"{wallet['per_second']:,.0f} charges/s ({wallet['count']:,} in {wallet['transactions']} transactions; "
        f"p50 {wallet['latency_ms']['p50']:.0f} ms, p99 {wallet['latency_ms']['p99']:.0f} ms)\n"
        f"hot wallet (100 concurrent debits of 0.70 on 50.00): own commit -> {hot_single['accepted']} accepted, "
        f"{hot_single['refused']} refused, balance {hot_single['balance_minor']}, {hot_single['seconds'] * 1000:.0f} ms; "
        f"group commit -> {hot_group['accepted']} accepted, {hot_group['refused']} refused, balance {hot_group['balance_minor']}, "
        f"{hot_group['seconds'] * 1000:.0f} ms\n"
        f"invariants over all {transfers_total:,} transfers of the run (checked in {check_s:.1f} s): {len(violations)} violations")
    chart(sustained, baseline, RESULTS / "ledger.png")
    save("ledger", {"sustained_group_commit": {**sustained, "callers": CALLERS, "writers": WRITERS},
                    "baseline_plain_insert": baseline,
                    "burst_group_commit": {"transfers": n_burst, "callers": CALLERS, "writers": WRITERS, "transactions": burst_batches,
                                           "transfers_per_second": n_burst / burst_s},
                    "per_transfer_commit": per_transfer,
                    "wallet_charges_service_path": {**wallet, "callers": CALLERS},
                    "fsync": fsync, "synchronous_commit": sync_commit,
                    "hot_wallet": {"own_commit": hot_single, "group_commit": hot_group},
                    "transfers_total": transfers_total, "invariant_violations": violations, "target": 2000}, summary)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
