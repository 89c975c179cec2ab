"""The outbox relay: publishes committed outbox rows to the bus, in order, then marks them.

It wakes on every commit in this process and polls for rows committed by
other instances. Rows stay locked (PostgreSQL: FOR UPDATE SKIP LOCKED) while
they are published, so scaled-out instances never publish the same row twice
in parallel; a crash between publish and mark republishes, which inboxes absorb.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine

from libs.platform.bus.port import Bus
from libs.platform.outbox import OutboxTable, fetch_unpublished, mark_published
from libs.platform.worker import Worker


class OutboxRelay(Worker):
    def __init__(self, engine: Engine, outbox: OutboxTable, bus: Bus, poll_seconds: float = 0.5, batch: int = 500):
        super().__init__("outbox-relay", self.relay_once, poll_seconds)
        self._engine = engine
        self._outbox = outbox
        self._bus = bus
        self._batch = batch

    def relay_once(self) -> int:
        """One step in a worker thread: lock a batch, publish it through the event loop, mark it.

        On SQLite (the embedded platform: one process, one relay per service, steps never overlap) the rows are
        read and marked in two short transactions with the publish between them, outside any transaction. The
        in-process bus runs the consumers while it publishes, and they write to other services' databases whose
        relays may in turn be publishing to this one: holding this database's write lock across the publish let
        two relays wait on each other until SQLite's 30 s busy timeout. A crash between publish and mark
        republishes, which inboxes absorb, as on PostgreSQL.
        """
        assert self._loop is not None
        if self._engine.dialect.name != "postgresql":
            with self._engine.connect() as conn, conn.begin():
                rows = fetch_unpublished(conn, self._outbox, self._batch)
            if rows:
                self._publish(rows)
                with self._engine.connect() as conn, conn.begin():
                    mark_published(conn, self._outbox, [r.seq for r in rows])
            return len(rows)
        with self._engine.connect() as conn, conn.begin():
            rows = fetch_unpublished(conn, self._outbox, self._batch)
            if not rows:
                return 0
            self._publish(rows)
            mark_published(conn, self._outbox, [r.seq for r in rows])
        return len(rows)

    def _publish(self, rows) -> None:
        items = [(r.topic, r.key, r.payload) for r in rows]
        asyncio.run_coroutine_threadsafe(self._bus.publish_many(items), self._loop).result()
