"""Named crash points for fault-injection tests against the real servers.

`CLOUDBILL_<SVC>_CRASH_AT=<point>` makes the process die (os._exit, no cleanup,
like SIGKILL) the first time it passes that point. Tests use it to kill a
consumer between its database commit and its offset commit, then restart it
and check that nothing was applied twice. Unset in every real deployment.
"""

from __future__ import annotations

import os
import sys


def crash_point(configured: str | None, point: str) -> None:
    if configured and configured == point:
        sys.stderr.write(f"fault injection: crashing at {point}\n")
        sys.stderr.flush()
        os._exit(86)
