"""How many subscription-periods per second the rating engine prices, for a plan with 10 charges.

Measured is what a billing run does per period once the rows are loaded:
stored usage rows -> `app.plan_codec.rate_rows` (the rows tallied in one pass,
`rate()` of the decoded plan, lines -> DraftLines), which is what
`app.rating.rate_subscription_period` calls. The plan is decoded once, as a
run does per plan. Measured in the same run, round by round:
- the event path (`rate_period` over `events_for`: an event per row, aggregated
  charge by charge), which billing runs used before and which still rates what
  the tally cannot (it shares the other speedups of the change that added the
  tally, so it is faster than the code before was);
- the baseline: the same number of periods where each charge only sums its
  usage quantities with Decimal, the floor any rating pays;
- the same work shared by 2 worker processes (multiprocessing, each decoding
  the plan once) as two billing-factory workers share one run: each claims the
  next chunk of CHUNK periods from a shared cursor until none is left
  (`app.runs.advance_run` claims 200 subscriptions at a time the same way), for
  the one-pass path and for the baseline, so the 2-process figures compare like
  with like. Only the rating is measured, not the database work around it.
Each invocation runs ROUNDS rounds and saves every round and the median.
Run: .venv/bin/python -m bench.rating_bench
"""

from __future__ import annotations

import multiprocessing
import statistics
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from bench.common import save, timed
from services.billing_factory.app.plan_codec import events_for, plan_from_definition, rate_period, rate_rows
from services.billing_factory.domain import Period

PERIODS = 6000
ROUNDS = 3
WORKERS = 2
CHUNK = 200  # periods a worker claims at a time, as a billing run's chunk of subscriptions
START, END = datetime(2026, 11, 1, tzinfo=timezone.utc), datetime(2026, 12, 1, tzinfo=timezone.utc)
METRICS = {f"m{i}": {"aggregation": "sum" if i % 2 else "count", "field": "q"} for i in range(8)}
PLAN = {"code": "bench", "currency": "EUR", "interval": "month", "charges": [
    {"code": "fee", "name": "Fee", "model": "flat_fee", "amount": "49.00"},
    {"code": "setup", "name": "Setup", "model": "one_time", "amount": "99.00"},
    {"code": "c0", "name": "c0", "model": "per_unit", "metric": "m0", "unit_price": "0.05", "free_units": "10"},
    {"code": "c1", "name": "c1", "model": "graduated", "metric": "m1", "tiers": [{"up_to": "10", "unit_price": "0.1"}, {"up_to": "100", "unit_price": "0.05", "flat_fee": "1"}, {"up_to": None, "unit_price": "0.01"}]},
    {"code": "c2", "name": "c2", "model": "volume", "metric": "m2", "tiers": [{"up_to": "10", "unit_price": "0.1"}, {"up_to": None, "unit_price": "0.05"}]},
    {"code": "c3", "name": "c3", "model": "package", "metric": "m3", "package_size": "100", "package_price": "2.00"},
    {"code": "c4", "name": "c4", "model": "percentage", "metric": "m4", "percentage": "2.9", "fixed_fee": "0.30", "amount_field": "q", "max_per_transaction": "5"},
    {"code": "c5", "name": "c5", "model": "per_unit", "metric": "m5", "unit_price": "0.2", "maximum_amount": "3.00"},
    {"code": "c6", "name": "c6", "model": "per_unit", "metric": "m6", "unit_price": "0.01", "minimum_amount": "5.00"},
    {"code": "c7", "name": "c7", "model": "per_unit", "metric": "m7", "unit_price": "0.03", "group_by": "region"},
]}
EVENTS = [{"event_id": f"e{i}", "metric": f"m{i % 8}", "timestamp": START + timedelta(minutes=i),
           "properties": {"q": str(i % 7 + 1), "region": "EU" if i % 3 else "US"}} for i in range(40)]
PERIOD = Period(START, END)


def rate_all(plan, periods: int = PERIODS) -> int:
    """As a billing run rates: stored rows in, DraftLines out (`rate_rows`)."""
    lines = 0
    for _ in range(periods):
        lines += len(rate_rows(plan, PERIOD, START, None, EVENTS, END))
    return lines


def rate_all_events(plan, periods: int = PERIODS) -> int:
    """The event path: a UsageEvent per row, aggregated charge by charge."""
    lines = 0
    for _ in range(periods):
        lines += len(rate_period(plan, PERIOD, START, None, events_for(plan, EVENTS), END))
    return lines


def baseline(periods: int = PERIODS) -> Decimal:
    total = Decimal(0)
    for _ in range(periods):
        for charge in PLAN["charges"]:
            metric = charge.get("metric")
            total += sum((Decimal(e["properties"]["q"]) for e in EVENTS if e["metric"] == metric), Decimal(0))
    return total


def _worker(kind: str, cursor, barrier, out) -> None:
    plan = plan_from_definition(PLAN, METRICS)  # decoded once per process, as each billing-factory worker does
    barrier.wait()
    t0 = time.perf_counter()  # CLOCK_MONOTONIC: comparable across the processes
    done = 0
    while True:
        with cursor.get_lock():  # claim the next chunk, as a worker claims a run's next chunk
            take = min(CHUNK, PERIODS - cursor.value)
            cursor.value += take
        if take <= 0:
            break
        if kind == "rating":
            rate_all(plan, take)
        else:
            baseline(take)
        done += take
    out.put((t0, time.perf_counter(), done))


def in_processes(kind: str, workers: int = WORKERS) -> float:
    """Periods per second with PERIODS shared by `workers` processes in claimed chunks: first start to last finish."""
    barrier, out, cursor = multiprocessing.Barrier(workers), multiprocessing.Queue(), multiprocessing.Value("i", 0)
    procs = [multiprocessing.Process(target=_worker, args=(kind, cursor, barrier, out)) for _ in range(workers)]
    for p in procs:
        p.start()
    spans = [out.get() for _ in procs]
    for p in procs:
        p.join()
    assert sum(done for _, _, done in spans) == PERIODS
    return PERIODS / (max(end for _, end, _ in spans) - min(start for start, _, _ in spans))


def one_round(plan) -> dict:
    wall, cpu, lines = timed(rate_all, plan)
    ev_wall, ev_cpu, ev_lines = timed(rate_all_events, plan)
    assert ev_lines == lines
    base_wall, base_cpu, _ = timed(baseline)
    return {"periods_per_second": PERIODS / wall, "cpu_ms_per_period": cpu / PERIODS * 1000, "periods_per_cpu_second": PERIODS / cpu,
            "event_path_periods_per_second": PERIODS / ev_wall, "event_path_cpu_ms_per_period": ev_cpu / PERIODS * 1000,
            "baseline_periods_per_second": PERIODS / base_wall, "baseline_periods_per_cpu_second": PERIODS / base_cpu,
            "two_process_periods_per_second": in_processes("rating"), "two_process_baseline_periods_per_second": in_processes("baseline"),
            "lines_per_period": lines // PERIODS}


def main() -> None:
    plan = plan_from_definition(PLAN, METRICS)
    rounds = [one_round(plan) for _ in range(ROUNDS)]
    median = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
    each = "; ".join(f"{r['periods_per_second']:,.0f} / {r['two_process_periods_per_second']:,.0f}" for r in rounds)
    summary = (f"rating: {median['periods_per_second']:,.0f} subscription-periods/s in 1 process, "
               f"{median['two_process_periods_per_second']:,.0f}/s in {WORKERS} processes sharing the periods in claimed chunks of {CHUNK}, as a run's workers do (median of {ROUNDS} rounds, 1 / {WORKERS} processes: {each}); "
               f"plan with 10 charges, {len(EVENTS)} events each, {median['lines_per_period']:.0f} lines; "
               f"{median['cpu_ms_per_period']:.3f} ms CPU per period; event path (an event per row): {median['event_path_periods_per_second']:,.0f}/s; "
               f"baseline (Decimal sums only): {median['baseline_periods_per_second']:,.0f}/s in 1 process, "
               f"{median['two_process_baseline_periods_per_second']:,.0f}/s in {WORKERS}; "
               f"ratio to baseline {median['periods_per_second'] / median['baseline_periods_per_second']:.2f} (1 process), "
               f"{median['two_process_periods_per_second'] / median['two_process_baseline_periods_per_second']:.2f} ({WORKERS}); target >= 10,000/s")
    save("rating", {"periods": PERIODS, "charges": 10, "events_per_period": len(EVENTS), "workers": WORKERS, "chunk": CHUNK, "rounds": rounds,
                    **median, "target": 10000}, summary)


if __name__ == "__main__":
    main()
