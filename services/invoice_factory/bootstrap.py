"""Composition root of the invoice factory: the only place its adapters are chosen."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from libs.contracts import topics
from libs.platform.bus.port import Bus
from libs.platform.docstore import DocumentStore
from libs.platform.runtime import make_blobstore
from libs.platform.service import ServiceContainer
from services.invoice_factory.adapters.metadata import metadata
from services.invoice_factory.adapters.tables import outbox
from services.invoice_factory.adapters.smtp_mailer import SmtpMailer
from services.invoice_factory.app.archiving import Archiver
from services.invoice_factory.app.dispatch import Dispatcher
from services.invoice_factory.app.documents import render_snapshot
from services.invoice_factory.entrypoints.consumers import make_handler
from services.invoice_factory.settings import InvoiceSettings

MIGRATIONS = Path(__file__).parent / "migrations"


class InvoiceContainer(ServiceContainer):
    def __init__(self, settings: InvoiceSettings, bus: Bus | None = None, docstore: DocumentStore | None = None, clock=None):
        super().__init__(settings, metadata, outbox, "cloudbill-invoice", MIGRATIONS, bus, docstore, clock)
        self.blobs = make_blobstore(settings, settings.public_base_url)
        # Rendering is CPU-bound: large invoice runs render in a pool of processes, one batch per worker step.
        self.render_pool = ProcessPoolExecutor(settings.render_workers) if settings.render_workers > 0 else None
        self.archiver = Archiver(self.engine, self.blobs, self.docstore, render_snapshot, settings.retention_years,
                                 self.render_pool, batch=2 * settings.render_workers)
        self._archive_worker = self.add_worker("invoice-archiver", self.archiver.archive_next, settings.archive_poll_seconds)
        self._dispatch_worker = None
        if settings.smtp_host:
            mailer = SmtpMailer(settings.smtp_host, settings.smtp_port, settings.smtp_from, settings.smtp_starttls, settings.smtp_user, settings.smtp_password)
            self._dispatch_worker = self.add_worker("invoice-mailer", Dispatcher(self.engine, self.blobs, mailer).dispatch_next, 2.0)
        self.bus.subscribe([topics.BILLING, topics.PAYMENTS], settings.kafka_group, make_handler(self))

    def close(self) -> None:
        if self.render_pool is not None:
            self.render_pool.shutdown(cancel_futures=True)
        super().close()

    def wake_archiver(self) -> None:
        self._archive_worker.wake()
        if self._dispatch_worker:
            self._dispatch_worker.wake()


def build(settings: InvoiceSettings | None = None, **overrides) -> InvoiceContainer:
    return InvoiceContainer(settings or InvoiceSettings(), **overrides)
