"""Composition root of the interface layer: the only place its adapters are chosen."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Awaitable, TypeVar

import httpx
from starlette.concurrency import run_in_threadpool

from libs.clock import Clock, SystemClock
from libs.contracts import topics
from libs.platform.bus.port import Bus
from libs.platform.db import make_engine
from libs.platform.migrations import prepare_schema
from libs.platform.docstore import DocumentStore
from libs.platform.runtime import make_bus, make_docstore
from libs.platform.worker import Worker
from services.interface_layer.adapters.audit_spool import AuditSpool
from services.interface_layer.adapters.billing_targets import HttpUsageTargets
from services.interface_layer.adapters.factory_clients import AiohttpForwarder, Forwarder, HttpxForwarder, factory_client
from services.interface_layer.adapters import tables  # noqa: F401  (registers the tables)
from services.interface_layer.adapters.metadata import metadata
from services.interface_layer.app.ingest_usage import IngestUsage
from services.interface_layer.app.target_cache import TargetCache
from services.interface_layer.app.tenancy import KeyCache, Tenancy
from services.interface_layer.entrypoints.docs import install_merged_docs
from services.interface_layer.app.webhooks import WebhookSender
from services.interface_layer.entrypoints.raw_consumer import BATCH as RAW_BATCH, GROUP, make_raw_usage_handler
from services.interface_layer.entrypoints.webhook_consumer import GROUP as WEBHOOK_GROUP, make_webhook_handler
from services.interface_layer.settings import EdgeSettings

T = TypeVar("T")
log = logging.getLogger(__name__)


class EdgeContainer:
    def __init__(self, settings: EdgeSettings, bus: Bus | None = None, docstore: DocumentStore | None = None,
                 transports: dict[str, httpx.AsyncBaseTransport] | None = None, clock: Clock | None = None):
        self.settings = settings
        self.engine = make_engine(settings.database_url, settings.database_schema, settings.data_dir)
        prepare_schema(self.engine, metadata, Path(__file__).parent / "migrations", settings.database_schema)
        self.bus = make_bus(settings, "cloudbill-edge", bus)
        self._owns_bus = bus is None
        self.docstore = make_docstore(settings, docstore)
        self.clock = clock or SystemClock()
        self.tenancy = Tenancy(self.engine, KeyCache(settings.api_key_cache_seconds))
        urls = {"billing": settings.billing_url, "invoice": settings.invoice_url, "payment": settings.payment_url}
        transports = transports or {}
        self.clients = {
            name: factory_client(url if name not in transports else "http://" + name, transports.get(name))
            for name, url in urls.items()
        }
        # what the proxy forwards goes over aiohttp directly; in-process transports (embedded mode) through the clients
        self.forwarders: dict[str, Forwarder] = {
            name: HttpxForwarder(self.clients[name]) if name in transports else AiohttpForwarder(url) for name, url in urls.items()
        }
        self.ingest = IngestUsage(self.bus, HttpUsageTargets(self.clients["billing"], settings.internal_token), self.clock,
                                  settings.future_tolerance_seconds, settings.max_event_age_days,
                                  TargetCache(settings.usage_target_cache_seconds))
        self._loop: asyncio.AbstractEventLoop | None = None
        raw_handler = make_raw_usage_handler(self.ingest, lambda: self._loop)
        if hasattr(self.bus, "subscribe_pipelined"):  # Kafka: prepare the next raw batch while the last one is acknowledged
            self.bus.subscribe_pipelined([topics.USAGE_RAW], GROUP, raw_handler.pipelined, RAW_BATCH)
        else:
            self.bus.subscribe([topics.USAGE_RAW], GROUP, raw_handler, RAW_BATCH)
        self._webhook_http = httpx.Client(timeout=settings.webhook_timeout_seconds, follow_redirects=False)
        self.webhooks = WebhookSender(self.engine, self.docstore, self._post_webhook, settings.webhook_retry_base_seconds)
        self.webhook_worker = Worker("webhook-sender", self.webhooks.deliver_next, settings.webhook_poll_seconds)
        self.audit_trail = AuditSpool(settings.data_dir / "audit-spool", self.docstore)
        self.audit_shipper = Worker("audit-shipper", self.audit_trail.ship_next, settings.audit_ship_seconds)
        self.bus.subscribe([topics.BILLING, topics.INVOICES, topics.PAYMENTS], WEBHOOK_GROUP,
                           make_webhook_handler(self.engine, self.webhook_worker.wake))

    def _post_webhook(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        return self._webhook_http.post(url, content=body, headers=headers).status_code

    def audit(self, tenant_id: str, action: str, detail: dict) -> None:
        """Append-only audit trail of every change made through the edge: in the spool when this returns (see
        adapters/audit_spool.py), in the document store within about `audit_ship_seconds`."""
        self.audit_trail.append(tenant_id, action, detail)

    async def audited(self, tenant_id: str, action: str, detail: dict, change: Awaitable[T]) -> T:
        """Record the change in the audit trail, then make it (the forward to a factory): a record exists for every
        change answered, also for one the factory refuses, and one the spool cannot take (a full disk) is not forwarded."""
        try:
            self.audit(tenant_id, action, detail)
        except Exception:
            change.close()  # the forward never started
            log.error("audit record not stored: tenant_id=%s action=%s detail=%r", tenant_id, action, detail, exc_info=True)
            raise
        return await change

    def readiness_checks(self):
        def database():
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")

        return {"database": database, "documents": self.docstore.ping}

    @asynccontextmanager
    async def lifespan(self, app):
        self._loop = asyncio.get_running_loop()
        if self._owns_bus:
            await self.bus.start()
        docs_task = install_merged_docs(app, self.clients)
        await self.webhook_worker.start()
        await self.audit_shipper.start()
        try:
            yield
        finally:
            docs_task.cancel()
            await self.webhook_worker.stop()
            await self.audit_shipper.stop()
            try:
                await run_in_threadpool(self.audit_trail.flush)  # what is left ships at the next start otherwise
            except Exception:
                log.warning("audit spool not drained at shutdown (%d bytes wait for the next start)", self.audit_trail.pending_bytes(), exc_info=True)
            self.audit_trail.close()
            self._webhook_http.close()
            if self._owns_bus:
                await self.bus.stop()
            for client in self.clients.values():
                await client.aclose()
            for forwarder in self.forwarders.values():
                await forwarder.aclose()


def build(settings: EdgeSettings | None = None, **overrides) -> EdgeContainer:
    return EdgeContainer(settings or EdgeSettings(), **overrides)
