"""Benchmark plumbing: every result is saved as JSON beside a baseline measured in the same run."""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
# the benches over the four services run the raw usage log in its own process, as deployed; BENCH_USAGE_LOG_WORKER=0 keeps
# it in the billing factory, for comparison
USAGE_LOG_WORKER = os.environ.get("BENCH_USAGE_LOG_WORKER", "1") == "1"
USAGE_LOG_WHERE = "usage log in its own process" if USAGE_LOG_WORKER else "usage log in the billing factory"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(fn, *args) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds, result)."""
    c0, t0 = cpu_seconds(), time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - t0, cpu_seconds() - c0, result


def save(name: str, results: dict, summary: str) -> Path:
    RESULTS.mkdir(exist_ok=True)
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "interpreter": os.path.realpath(sys.executable)}
    record = {"benchmark": name, "at": datetime.now(timezone.utc).isoformat(), "machine": machine, **results}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(record, indent=2, default=str) + "\n")
    (RESULTS / f"{name}.txt").write_text(summary + "\n")
    print(summary)
    return path
