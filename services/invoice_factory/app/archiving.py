"""The Cloud Archive: render each finalized invoice once, store it write-once, index it.

Runs after the issuing commit and retries while the store is down; the
invoice stays finalized meanwhile. Each invoice is claimed with a row lock
(PostgreSQL: SKIP LOCKED), so scaled instances never render the same one
twice at once. If an earlier attempt stored the file but crashed before
marking it, the stored file wins: a document is never stored twice.
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor, ThreadPoolExecutor, wait
from datetime import date, datetime, timezone
from typing import Callable

from sqlalchemy import Engine, select, update

from libs.platform.blobstore import BlobConflict, BlobStore, BlobStoreUnavailable, sha256_hex
from libs.platform.docstore import DocumentStore
from services.invoice_factory.adapters.tables import invoices
from services.invoice_factory.app.issuing import retain_until

log = logging.getLogger(__name__)
COLLECTION = "documents"

Render = Callable[[dict], tuple[bytes, bytes, str]]  # document snapshot -> (pdf, xml, xml flavour)


class Archiver:
    """`pool`: an Executor rendering a batch of invoices in parallel (a process pool in large runs); None renders in this thread."""

    def __init__(self, engine: Engine, blobs: BlobStore, docstore: DocumentStore, render: Render, retention_years: int,
                 pool: Executor | None = None, batch: int = 1):
        self._engine = engine
        self._blobs = blobs
        self._docs = docstore
        self._render = render
        self._years = retention_years
        self._map = pool.map if pool is not None else map
        self._batch = batch if pool is not None else 1
        self._io = ThreadPoolExecutor(max(2, min(self._batch, 8)), thread_name_prefix="archive-upload")
        docstore.ensure_unique_index(COLLECTION, ["tenant_id", "number", "kind"])

    def archive_next(self) -> bool:
        """Archive the next batch of pending invoices; False when none is pending."""
        failure = None
        with self._engine.connect() as conn, conn.begin():
            stmt = (select(invoices).where(invoices.c.archived.is_(False), invoices.c.status.in_(["finalized", "paid", "voided"]))
                    .order_by(invoices.c.created_at).limit(self._batch))
            if conn.dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            rows = conn.execute(stmt).all()
            if not rows:
                return False
            outcomes = self._render_and_store(rows)
            for row, (stored, error) in zip(rows, outcomes):
                if stored is not None:
                    conn.execute(update(invoices).where(invoices.c.id == row.id).values(archived=True, **stored))
                    continue
                log.warning("archive unavailable for %s: %s", row.number, error)
                failure = failure or error  # count the attempt (committed below), then let the worker back off
                conn.execute(update(invoices).where(invoices.c.id == row.id).values(archive_attempts=invoices.c.archive_attempts + 1))
        if failure is not None:
            raise failure
        return True

    def _render_and_store(self, rows) -> list[tuple[dict | None, BlobStoreUnavailable | None]]:
        """Each invoice's upload starts as soon as it is rendered, while the pool renders the rest of the batch (uploads are
        I/O: they go out together instead of one after another). If a render fails, the uploads already started finish
        before the error leaves and the batch rolls back, so none runs on unseen; the next attempt keeps their copies."""
        uploads = []
        try:
            for row, documents in zip(rows, self._map(self._render, [row.document for row in rows])):
                uploads.append(self._io.submit(self._try_store, row, documents))
        except BaseException:
            wait(uploads)
            raise
        return [upload.result() for upload in uploads]

    def _try_store(self, row, documents: tuple[bytes, bytes, str]) -> tuple[dict | None, BlobStoreUnavailable | None]:
        try:
            return self._store(row, *documents), None
        except BlobStoreUnavailable as exc:
            return None, exc

    def _store(self, row, pdf: bytes, xml: bytes, flavour: str) -> dict:
        issue = row.issue_date or date.today()
        until = retain_until(issue, self._years)
        base = f"{row.tenant_id}/invoices/{issue.year}/{row.number}"
        result = {}
        for kind, data, ctype in (("pdf", pdf, "application/pdf"), ("xml", xml, "application/xml")):
            key = f"{base}.{kind}"
            try:
                digest = self._blobs.put_once(key, data, ctype, until)
            except BlobConflict:
                data = self._blobs.get(key)  # stored by an earlier, interrupted attempt: that copy is the record
                digest = sha256_hex(data)
            self._docs.insert_many_ignoring_duplicates(COLLECTION, [{
                "tenant_id": row.tenant_id, "invoice_id": row.id, "number": row.number, "kind": kind, "type_code": row.type_code,
                "customer_id": row.customer_id, "issue_date": issue.isoformat(), "period_start": row.period_start.isoformat(),
                "period_end": row.period_end.isoformat(), "key": key, "sha256": digest, "size": len(data), "flavour": flavour if kind == "xml" else "pdf/a-3b",
                "retain_until": until.isoformat(), "archived_at": datetime.now(timezone.utc).isoformat(),
            }])
            result[f"{kind}_key"] = key
            result[f"{kind}_sha256"] = digest
        return result
