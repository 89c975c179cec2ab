"""Group commit: many callers' transfers share one transaction and one WAL flush.

With fsync on, every commit waits for the disk; a ledger that commits each
transfer alone is bounded by that wait. Callers hand their request to
`submit` and block on the returned future; writer threads take whatever
queued up (at most `max_batch`), post it with `transfer_batch` in one
transaction, and complete the futures only after the commit returned. So a
caller that got its Transfer back knows it is durable, exactly as with a
commit of its own; it just shares the flush with its neighbours.

Each writer thread keeps one connection for its whole life instead of taking
one from the pool per batch (which pings the server first: one more round
trip per batch); after a database error it gives that connection back and
takes a fresh one. Any other failure of a batch is handed to that batch's
callers, never allowed to end the writer thread.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from libs.clock import Clock, SystemClock
from services.payment_factory.adapters.ledger_batch import BatchRetry, transfer_batch
from services.payment_factory.adapters.ledger_tables import LedgerTables
from services.payment_factory.domain.ledger import Transfer, TransferRequest

_STOP = object()


class GroupCommitWriter:
    def __init__(self, engine: Engine, tables: LedgerTables, clock: Clock | None = None, writers: int = 2, max_batch: int = 200,
                 retries: int = 5):
        self.engine, self.t, self.clock = engine, tables, clock or SystemClock()
        self.max_batch, self.retries = max_batch, retries
        self._queue: queue.Queue = queue.Queue()
        self._threads = [threading.Thread(target=self._run, name=f"ledger-writer-{i}", daemon=True) for i in range(writers)]
        self.batches = 0
        for thread in self._threads:
            thread.start()

    def submit(self, tenant_id: str, request: TransferRequest) -> Future:
        """A future of the Transfer; it raises the LedgerError that refused the request."""
        future: Future = Future()
        request.body_hash()  # hashed here, in the caller's thread, so the single writer does less
        self._queue.put((tenant_id, request, future))
        return future

    def transfer(self, tenant_id: str, request: TransferRequest, timeout: float | None = 30) -> Transfer:
        return self.submit(tenant_id, request).result(timeout)

    def close(self) -> None:
        for _ in self._threads:
            self._queue.put(_STOP)
        for thread in self._threads:
            thread.join()

    def _take(self) -> list | None:
        first = self._queue.get()
        if first is _STOP:
            return None
        batch = [first]
        while len(batch) < self.max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                self._queue.put(_STOP)
                break
            batch.append(item)
        return batch

    def _run(self) -> None:
        conn: Connection | None = None
        try:
            while (batch := self._take()) is not None:
                by_tenant: dict[str, list] = {}
                for item in batch:
                    by_tenant.setdefault(item[0], []).append(item)
                for tenant_id, items in by_tenant.items():
                    conn = self._commit(conn, tenant_id, items)
        finally:
            if conn is not None:
                conn.close()

    def _commit(self, conn: Connection | None, tenant_id: str, items: list) -> Connection | None:
        """Post one tenant's share of a batch and complete its futures; returns the connection to use next."""
        requests = [request for _, request, _ in items]
        for attempt in range(self.retries + 1):
            try:
                if conn is None:
                    conn = self.engine.connect()
                with conn.begin():
                    results = transfer_batch(conn, self.t, self.clock, tenant_id, requests)
                break
            except Exception as exc:  # noqa: BLE001 - every failure reaches the callers; only retryable ones are retried
                if isinstance(exc, DBAPIError) and conn is not None:
                    conn.close()  # back to the pool (invalidated if the server went away); a fresh one next time
                    conn = None
                if not isinstance(exc, (BatchRetry, DBAPIError)) or attempt == self.retries:
                    for _, _, future in items:
                        future.set_exception(exc)
                    return conn
        self.batches += 1
        for (_, _, future), result in zip(items, results):
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)
        return conn
