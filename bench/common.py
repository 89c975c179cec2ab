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


TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int, with_reaped_children: bool = False) -> float:
    """User plus system CPU seconds of another process (a service the bench started), from /proc; with those of its
    children that have exited, if asked (PostgreSQL's backends, whose time goes to the postmaster when they end)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15 if with_reaped_children else 13]) / TICKS


def server_cpu_seconds() -> dict[str, float]:
    """CPU seconds so far of each local server deploy/local/stack.sh started (PostgreSQL with all its backends, Kafka,
    FerretDB), by the pid files in its state directory; empty where the servers run elsewhere."""
    state = Path(os.environ.get("CLOUDBILL_STATE_DIR", Path(__file__).resolve().parent.parent / ".state" / "infra"))
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    totals = {}
    for name in ("postgres", "kafka", "ferretdb"):
        try:
            root = int((state / f"{name}.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        total, todo = 0.0, [root]
        while todo:
            pid = todo.pop()
            try:
                total += process_cpu_seconds(pid, with_reaped_children=pid == root)
            except OSError:  # gone meanwhile
                pass
            todo.extend(children.get(pid, []))
        totals[name] = total
    return totals


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
