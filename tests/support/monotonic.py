"""A monotonic clock a test moves by hand (for code taking `clock: Callable[[], float]`, like time.monotonic)."""


class ManualMonotonic:
    def __init__(self, start: float = 1000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now
