"""How many subscription-periods per second the rating engine prices, for a plan with 10 charges.

Measured is what a billing run does per period once the rows are loaded:
stored usage rows -> domain events, `rate()` of the decoded plan, lines ->
DraftLines (app.plan_codec.rate_period). The plan is decoded once, as a run
does per plan. Baseline (same run): the same number of periods where each
charge only sums its usage quantities with Decimal, the floor any rating pays.
Run: .venv/bin/python -m bench.rating_bench
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from bench.common import save, timed
from services.billing_factory.app.plan_codec import events_for, plan_from_definition, rate_period
from services.billing_factory.domain import Period

PERIODS = 3000
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


def rate_all(plan) -> int:
    lines = 0
    for _ in range(PERIODS):
        lines += len(rate_period(plan, PERIOD, START, None, events_for(plan, EVENTS), END))
    return lines


def baseline() -> Decimal:
    total = Decimal(0)
    for _ in range(PERIODS):
        for charge in PLAN["charges"]:
            metric = charge.get("metric")
            total += sum((Decimal(e["properties"]["q"]) for e in EVENTS if e["metric"] == metric), Decimal(0))
    return total


def main() -> None:
    plan = plan_from_definition(PLAN, METRICS)
    wall, cpu, lines = timed(rate_all, plan)
    base_wall, base_cpu, _ = timed(baseline)
    rate = PERIODS / wall
    summary = (f"rating: {rate:,.0f} subscription-periods/s (plan with 10 charges, {len(EVENTS)} events each, {lines // PERIODS} lines), "
               f"{cpu / PERIODS * 1000:.3f} ms CPU per period ({PERIODS / cpu:,.0f} per CPU second); baseline (Decimal sums only): {PERIODS / base_wall:,.0f}/s; "
               f"ratio {rate / (PERIODS / base_wall):.2f}; target >= 10,000/s")
    save("rating", {"periods": PERIODS, "charges": 10, "events_per_period": len(EVENTS), "periods_per_second": rate,
                    "cpu_ms_per_period": cpu / PERIODS * 1000, "periods_per_cpu_second": PERIODS / cpu,
                    "baseline_periods_per_cpu_second": PERIODS / base_cpu, "baseline_periods_per_second": PERIODS / base_wall, "target": 10000}, summary)


if __name__ == "__main__":
    main()
