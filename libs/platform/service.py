"""What every factory's composition root shares: engine, bus, documents, outbox relay, workers, lifespan.

A service subclasses this, adds its own adapters and subscribes its
handlers; the lifespan starts the bus (unless shared), the relay and any
background workers, and stops them in reverse order.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from typing import Callable

from sqlalchemy import MetaData

from libs.clock import Clock, SystemClock
from libs.platform.bus.port import Bus
from libs.platform.db import make_engine
from libs.platform.migrations import prepare_schema
from libs.platform.docstore import DocumentStore
from libs.platform.outbox import OutboxTable
from libs.platform.relay import OutboxRelay
from libs.platform.worker import Worker
from libs.platform.runtime import make_bus, make_docstore
from libs.platform.settings import ServiceSettings

class ServiceContainer:
    def __init__(self, settings: ServiceSettings, metadata: MetaData, outbox: OutboxTable, client_id: str, migrations: Path,
                 bus: Bus | None = None, docstore: DocumentStore | None = None, clock: Clock | None = None):
        self.settings = settings
        self.engine = make_engine(settings.database_url, settings.database_schema, settings.data_dir)
        prepare_schema(self.engine, metadata, migrations, settings.database_schema)
        self.bus = make_bus(settings, client_id, bus)
        self._owns_bus = bus is None
        self.docstore = make_docstore(settings, docstore)
        self.clock = clock or SystemClock()
        self.relay = OutboxRelay(self.engine, outbox, self.bus)
        self.workers: list[Worker] = []

    def add_worker(self, name: str, step: Callable[[], bool], poll_seconds: float = 1.0) -> Worker:
        worker = Worker(name, step, poll_seconds)
        self.workers.append(worker)
        return worker

    def readiness_checks(self) -> dict[str, Callable[[], None]]:
        def database():
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")

        return {"database": database, "documents": self.docstore.ping}

    @asynccontextmanager
    async def lifespan(self, _app):
        if self._owns_bus:
            await self.bus.start()
        await self.relay.start()
        for worker in self.workers:
            await worker.start()
        try:
            yield
        finally:
            for worker in reversed(self.workers):
                await worker.stop()
            await self.relay.stop()
            if self._owns_bus:
                await self.bus.stop()
            self.close()

    def close(self) -> None:
        """Release what the service holds beyond the lifespan's tasks (pools, engines)."""
        self.engine.dispose()
