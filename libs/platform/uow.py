"""Unit of work: one database transaction per command, rolled back unless committed.

Events raised during the work go to the outbox inside the same transaction,
so a state change and the message announcing it are committed together or
not at all. Only the unit of work commits.
"""

from __future__ import annotations

from typing import Callable

from sqlalchemy import Connection, Engine

from libs.contracts.envelope import Contract
from libs.platform.outbox import OutboxTable, write_outbox


class SqlUnitOfWork:
    def __init__(self, engine: Engine, outbox: OutboxTable, tenant_id: str, on_commit: Callable[[], None] | None = None):
        self._engine = engine
        self._outbox = outbox
        self.tenant_id = tenant_id
        self._on_commit = on_commit
        self.conn: Connection
        self._pending: list[tuple[str, str, Contract, str | None]] = []
        self._committed = False

    def __enter__(self) -> "SqlUnitOfWork":
        self.conn = self._engine.connect()
        self._tx = self.conn.begin()
        return self

    def emit(self, topic: str, key: str, event: Contract, message_id: str | None = None) -> None:
        """Queue an event; it is written to the outbox on commit, in the same transaction."""
        self._pending.append((topic, key, event, message_id))

    def commit(self) -> None:
        for topic, key, event, message_id in self._pending:
            write_outbox(self.conn, self._outbox, self.tenant_id, topic, key, event, message_id)
        self._pending.clear()
        self._tx.commit()
        self._committed = True

    def __exit__(self, *exc) -> None:
        try:
            if not self._committed and self._tx.is_active:
                self._tx.rollback()
        finally:
            self.conn.close()
        if self._committed and self._on_commit:
            self._on_commit()
