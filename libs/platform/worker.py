"""A background step run in a worker thread: again at once while it finds work, else when woken or polled."""

from __future__ import annotations

import asyncio
import logging
from typing import Callable

log = logging.getLogger(__name__)


class Worker:
    """A background step run in a thread until it reports no work, then again when woken or polled."""

    def __init__(self, name: str, step: Callable[[], bool], poll_seconds: float):
        self.name, self._step, self._poll = name, step, poll_seconds
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None

    def wake(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                did_work = await asyncio.to_thread(self._step)
                failures = 0
            except Exception:
                failures += 1
                log.exception("worker %s failed (%d in a row); backing off", self.name, failures)
                did_work = False
                await asyncio.sleep(min(0.5 * 2 ** failures, 30))
            if not did_work:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self._poll)
                except asyncio.TimeoutError:
                    pass
