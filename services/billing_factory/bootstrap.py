"""Composition root of the billing factory: the only place its adapters are chosen."""

from __future__ import annotations

from pathlib import Path

from libs.contracts import topics
from libs.platform.bus.port import Bus
from libs.platform.docstore import DocumentStore
from libs.platform.service import ServiceContainer
from services.billing_factory.adapters.metadata import metadata
from services.billing_factory.adapters.tables import outbox
from services.billing_factory.app.runs import advance_run, next_running
from services.billing_factory.entrypoints.consumers import make_usage_handler, make_wallet_handler
from services.billing_factory.settings import BillingSettings
from services.billing_factory.usage_log import subscribe_usage_log

MIGRATIONS = Path(__file__).parent / "migrations"


class BillingContainer(ServiceContainer):
    def __init__(self, settings: BillingSettings, bus: Bus | None = None, docstore: DocumentStore | None = None, clock=None):
        super().__init__(settings, metadata, outbox, "cloudbill-billing", MIGRATIONS, bus, docstore, clock)
        self.bus.subscribe([topics.USAGE], settings.kafka_group, make_usage_handler(self), settings.usage_batch_size)
        if settings.usage_log_consumer:
            subscribe_usage_log(self.bus, self.docstore, settings)
        self.bus.subscribe([topics.PAYMENTS], f"{settings.kafka_group}-wallet", make_wallet_handler(self))
        self.run_worker = self.add_worker("billing-runs", self._advance_runs, settings.billing_run_poll_seconds)

    def _advance_runs(self) -> bool:
        """Bill the next chunk of the oldest unfinished run (also one a crash interrupted); other workers may bill
        other chunks of the same run at the same time."""
        running = next_running(self.engine)
        if running is None:
            return False
        more = advance_run(self.engine, *running, self.settings.billing_run_chunk)
        self.relay.wake()
        # nothing left to claim in this run while others bill its last chunks: go on only if another run waits
        return more or next_running(self.engine) not in (None, running)


def build(settings: BillingSettings | None = None, **overrides) -> BillingContainer:
    return BillingContainer(settings or BillingSettings(), **overrides)
