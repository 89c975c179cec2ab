"""Instructions per rated subscription-period, counted by callgrind: a rating change measured without the machine's noise.

Wall time on this shared 2-core machine varies by about a quarter between runs of the same code, so a change of a
few percent cannot be seen in `bench.rating_bench`. Callgrind counts the instructions the interpreter executes,
which repeat exactly. Each part is run twice in a child process (SMALL and LARGE times, the same start-up), and the
difference divided by LARGE - SMALL is one period's cost:
- `period`: `rating_bench.rate_all`, what the throughput bench times (stored rows -> tally -> rate -> DraftLines);
- `tally`, `rate`, `drafts`: its three parts alone, on the bench plan's period;
- `baseline`: `rating_bench.baseline`, the Decimal sums the throughput bench compares with.
Needs valgrind (Debian: apt-get install valgrind); takes about four minutes.
Run: .venv/bin/python -m bench.rating_instructions
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

from bench.common import save

SMALL, LARGE = 100, 400
PARTS = ("period", "tally", "rate", "drafts", "baseline")
CHILD = """
import sys
from bench.rating_bench import END, EVENTS, METRICS, PERIOD, PLAN, START, baseline, plan_from_definition, rate_all
from services.billing_factory.app.plan_codec import drafts
from services.billing_factory.domain import SubscriptionPeriod, rate
from services.billing_factory.domain.rating import usage_window
from services.billing_factory.domain.tally import tally, tally_plan
part, n = sys.argv[1], int(sys.argv[2])
plan = plan_from_definition(PLAN, METRICS)
compiled, window = tally_plan(plan), usage_window(PERIOD, START, None, END)
tallies = tally(compiled, EVENTS, *window)
ctx = SubscriptionPeriod(PERIOD, START)
lines = rate(plan, ctx, tallies, END)
run = {"period": lambda: rate_all(plan, 1), "tally": lambda: tally(compiled, EVENTS, *window),
       "rate": lambda: rate(plan, ctx, tallies, END), "drafts": lambda: drafts(lines), "baseline": lambda: baseline(1)}[part]
for _ in range(n):
    run()
"""


def instructions(part: str, times: int) -> int:
    """Instructions of one child process running `part` `times` times, start-up included."""
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", CHILD, part, str(times)],
                          capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    return int(re.search(r"refs:\s+([\d,]+)", done.stderr).group(1).replace(",", ""))


def main() -> None:
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    per_period = {part: (instructions(part, LARGE) - instructions(part, SMALL)) // (LARGE - SMALL) for part in PARTS}
    summary = ("rating instructions per subscription-period (callgrind): "
               + ", ".join(f"{part} {count:,}" for part, count in per_period.items())
               + f"; period / baseline {per_period['period'] / per_period['baseline']:.1f}")
    save("rating_instructions", {"small": SMALL, "large": LARGE, "instructions_per_period": per_period}, summary)


if __name__ == "__main__":
    main()
