"""A monotonic clock and a wall clock that a test moves together by hand (`t` seconds; the wall shows NOW at t=100)."""

from datetime import datetime, timedelta, timezone

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


class Clocks:
    def __init__(self):
        self.t = 100.0

    def monotonic(self) -> float:
        return self.t

    def wall(self) -> datetime:
        return NOW + timedelta(seconds=self.t - 100.0)
