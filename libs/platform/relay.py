"""The outbox relay: publishes committed outbox rows to the bus, in order, then marks them.

It wakes on every commit in this process and polls for rows committed by
other instances. Rows stay locked (PostgreSQL: FOR UPDATE SKIP LOCKED) while
they are published, so scaled-out instances never publish the same row twice
in parallel; a crash between publish and mark republishes, which inboxes absorb.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import Engine

from libs.platform.bus.port import Bus
from libs.platform.outbox import OutboxTable, fetch_unpublished, mark_published

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(self, engine: Engine, outbox: OutboxTable, bus: Bus, poll_seconds: float = 0.5, batch: int = 500):
        self._engine = engine
        self._outbox = outbox
        self._bus = bus
        self._poll = poll_seconds
        self._batch = batch
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None

    def wake(self) -> None:
        """Thread-safe nudge after a commit."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                published = await asyncio.to_thread(self.relay_once)
            except Exception:
                log.exception("outbox relay step failed; retrying")
                published = 0
                await asyncio.sleep(1.0)
            if published == 0:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self._poll)
                except asyncio.TimeoutError:
                    pass

    def relay_once(self) -> int:
        """One step in a worker thread: lock a batch, publish it through the event loop, mark it."""
        assert self._loop is not None
        with self._engine.connect() as conn, conn.begin():
            rows = fetch_unpublished(conn, self._outbox, self._batch)
            if not rows:
                return 0
            items = [(r.topic, r.key, r.payload) for r in rows]
            asyncio.run_coroutine_threadsafe(self._bus.publish_many(items), self._loop).result()
            mark_published(conn, self._outbox, [r.seq for r in rows])
        return len(rows)
