"""The edge's audit trail: appended to a local spool file before the answer, shipped to the document store in batches.

Why a spool: the audit record of a change must exist before the change is answered, yet writing it straight into the
document store put that store's commit (an fsync: p50 1.3 ms, p99 6-8 ms on FerretDB here) and about 1 ms of client
CPU on every forwarded change, the device authorization included. An append to a file costs one write() of a line.
A record in the spool survives the process (it is in the operating system's page cache the moment write() returns,
as an acknowledged Kafka message is on the broker), and the shipper moves it into the document store within about
`poll_seconds`; after a crash the next start ships what was left. Shipping is idempotent: each record carries an id
under a unique index, so a batch shipped twice (a crash between insert and bookkeeping) is stored once. A document
store that is down fails no request: records wait in the spool and ship when it is back.

The spool is one append-only file of JSON lines and a small file with the byte offset shipped so far; once all of it
is shipped and it has grown past `rotate_bytes`, it is truncated under the append lock. Edge processes that share a
data directory each hold their own slot (`slot-N`, taken with an exclusive flock), so no two processes append to or
truncate one file; a process started after a crash takes the free slot and ships what the dead one left there.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import uuid
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path
from typing import Any

import orjson

from libs.platform.docstore import DocumentStore

log = logging.getLogger(__name__)
COLLECTION = "audit_log"
MAX_SLOTS = 64


def take_slot(base: Path) -> tuple[Path, int]:
    """The first slot directory under `base` no other live process holds, and the descriptor whose lock holds it."""
    for n in range(MAX_SLOTS):
        directory = base / f"slot-{n}"
        directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(directory / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return directory, fd
        except BlockingIOError:
            os.close(fd)
    raise RuntimeError(f"all {MAX_SLOTS} audit spool slots under {base} are held by running processes")


class AuditSpool:
    def __init__(self, base: Path, docstore: DocumentStore, max_batch: int = 1000, rotate_bytes: int = 1 << 20):
        directory, self._slot_fd = take_slot(base)
        self._path, self._offset_path = directory / "audit.spool", directory / "audit.shipped"
        self._docstore, self._max_batch, self._rotate_bytes = docstore, max_batch, rotate_bytes
        self._lock = threading.Lock()  # appends (event loop and thread pool) against truncation (the shipper)
        self._ship_lock = threading.Lock()  # one shipper at a time (the worker, and flush() at shutdown or in tests)
        self._fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._offset = self._read_offset()  # the slot is this process's alone: from here on the file only follows it
        docstore.ensure_unique_index(COLLECTION, ["id"])

    def append(self, tenant_id: str, action: str, detail: dict[str, Any]) -> None:
        """Write the record to the spool; when this returns, the record outlives the process."""
        line = orjson.dumps({"id": str(uuid.uuid4()), "tenant_id": tenant_id, "action": action, "detail": detail,
                             "at": datetime.now(timezone.utc).isoformat()}) + b"\n"
        with self._lock:
            written = os.write(self._fd, line)
        if written != len(line):  # a full disk: say so rather than leave half a record
            raise OSError(f"audit spool: wrote {written} of {len(line)} bytes")

    def pending_bytes(self) -> int:
        return os.fstat(self._fd).st_size - self._offset

    def ship_next(self) -> bool:
        """Ship up to `max_batch` records; True when it shipped some (the Worker then calls again at once)."""
        with self._ship_lock:
            start = self._offset
            if os.fstat(self._fd).st_size == start:  # nothing new: the idle poll opens no file
                return False
            with open(self._path, "rb") as spool:
                spool.seek(start)
                lines = list(islice(spool, self._max_batch))
            complete = [line for line in lines if line.endswith(b"\n")]  # a line still being written waits
            if not complete:
                self._rotate_if_drained(start)
                return False
            self._docstore.insert_many_ignoring_duplicates(COLLECTION, [orjson.loads(line) for line in complete])
            shipped = start + sum(len(line) for line in complete)
            self._record_shipped(shipped)
            self._rotate_if_drained(shipped)
            return True

    def flush(self) -> None:
        """Ship everything appended so far (at shutdown, and where a reader needs the records now)."""
        while self.ship_next():
            pass

    def close(self) -> None:
        os.close(self._fd)
        os.close(self._slot_fd)  # releases the slot

    def _read_offset(self) -> int:
        try:
            return int(self._offset_path.read_text() or 0)
        except FileNotFoundError:
            return 0

    def _record_shipped(self, offset: int) -> None:
        partial = self._offset_path.with_suffix(".tmp")
        partial.write_text(str(offset))
        os.replace(partial, self._offset_path)
        self._offset = offset

    def _rotate_if_drained(self, shipped: int) -> None:
        if shipped < self._rotate_bytes:
            return
        with self._lock:  # no append can slip in between the size check and the truncation
            if os.path.getsize(self._path) == shipped:
                self._record_shipped(0)  # first: a crash before the truncation ships the old lines again (stored once)
                os.truncate(self._path, 0)
