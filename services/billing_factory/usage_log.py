"""The raw usage log writer as its own process: python -m services.billing_factory.usage_log

The billing factory consumes the usage topic twice, in two consumer groups: recording (deduplicate, rate, charge
prepaid wallets: the hot path) and the raw event log in the document store (audit and re-rating). In one process
both share one interpreter lock, and the log, which nobody waits for, took CPU from recording, which a prepaid
meter waits for. Run this worker beside the billing factories and start those with
`CLOUDBILL_BILLING_USAGE_LOG_CONSUMER=false`: the log then runs in its own process (bench.prepaid_bench and
bench.usage_bench measure both ways). It reads the billing factory's settings (CLOUDBILL_BILLING_*: Kafka, the
document store, `usage_log_group`) and serves only /health and /ready on CLOUDBILL_BILLING_PORT.
"""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from libs.contracts import topics
from libs.platform.runtime import make_bus, make_docstore
from libs.platform.serve import serve
from libs.platform.web import health_router
from services.billing_factory.entrypoints.consumers import make_usage_log_handler
from services.billing_factory.settings import BillingSettings


class UsageLogSettings(BillingSettings):
    """The billing factory's settings (CLOUDBILL_BILLING_*); the log needs no database."""

    def required_servers(self) -> list[str]:
        return ["kafka_bootstrap", "mongo_url"]


class UsageLogWorker:
    """Only what the log needs: the bus and the document store (no database, no outbox, no HTTP API)."""

    def __init__(self, settings: UsageLogSettings):
        self.settings = settings
        self.bus = make_bus(settings, "cloudbill-billing-usage-log")
        self.docstore = make_docstore(settings)
        subscribe_usage_log(self.bus, self.docstore, settings)

    @asynccontextmanager
    async def lifespan(self, _app):
        await self.bus.start()
        try:
            yield
        finally:
            await self.bus.stop()


def subscribe_usage_log(bus, docstore, settings: BillingSettings) -> None:
    """The log's consumer group on the usage topic; the billing factory calls this too when it keeps the log in process."""
    bus.subscribe([topics.USAGE], settings.usage_log_group, make_usage_log_handler(docstore), settings.usage_batch_size,
                  gather_ms=settings.usage_log_gather_ms)


def build(settings: UsageLogSettings | None = None) -> UsageLogWorker:
    return UsageLogWorker(settings or UsageLogSettings())


def create_app(worker: UsageLogWorker) -> FastAPI:
    app = FastAPI(title="cloudbill usage log writer", lifespan=worker.lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    app.include_router(health_router({"documents": worker.docstore.ping}))
    return app


if __name__ == "__main__":
    serve(build, create_app)
