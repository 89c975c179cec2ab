"""Composition root of the payment factory: the only place its adapters are chosen."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from sqlalchemy import select

from libs.contracts import topics
from libs.platform.bus.port import Bus
from libs.platform.docstore import DocumentStore
from libs.platform.service import ServiceContainer
from services.payment_factory.adapters.async_authorize import AsyncAuthorizer
from services.payment_factory.adapters.group_commit import GroupCommitWriter
from services.payment_factory.adapters.metadata import metadata
from services.payment_factory.adapters.paypal_provider import PayPalProvider
from services.payment_factory.adapters.paypal_webhooks import PayPalWebhooks
from services.payment_factory.adapters.sepa_files import Creditor
from services.payment_factory.adapters.sql_ledger import SqlLedger
from services.payment_factory.adapters.stripe_provider import StripeProvider
from services.payment_factory.app.collection import SepaConfig
from services.payment_factory.app.daily import expire_holds, run_daily
from services.payment_factory.domain.dunning import DunningPolicy
from services.payment_factory.domain.psp import PaymentProvider
from services.payment_factory.adapters.tables import ledger, outbox, wallet_authorizations
from services.payment_factory.app.prepaid import expire
from services.payment_factory.entrypoints.consumers import make_handler
from services.payment_factory.settings import PaymentSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def fetch_paypal_cert(url: str) -> bytes:
    """PayPal's signing certificate (the verifier has checked the URL is PayPal's own https host)."""
    response = httpx.get(url, timeout=10, follow_redirects=False)
    response.raise_for_status()
    return response.content


class PaymentContainer(ServiceContainer):
    def __init__(self, settings: PaymentSettings, bus: Bus | None = None, docstore: DocumentStore | None = None, clock=None):
        super().__init__(settings, metadata, outbox, "cloudbill-payment", MIGRATIONS, bus, docstore, clock)
        self.ledger = SqlLedger(ledger, self.clock)
        # wallet charges share commits (and WAL flushes) through one writer thread; see app.wallet.charge
        self.ledger_writer = GroupCommitWriter(self.engine, ledger, self.clock, writers=1, max_batch=500)
        self.dunning = DunningPolicy()
        creditor = None
        if settings.sepa_creditor_iban and settings.sepa_creditor_id:
            creditor = Creditor(settings.sepa_creditor_name or "cloudbill", settings.sepa_creditor_iban, settings.sepa_creditor_bic,
                                settings.sepa_creditor_id)
        self.sepa = SepaConfig(creditor, settings.sepa_prenotification_days)
        self.providers: dict[str, PaymentProvider] = {}
        self.webhook_verifiers: dict = {}
        if settings.stripe_api_key and settings.stripe_webhook_secret:
            stripe = StripeProvider(settings.stripe_api_key, settings.stripe_webhook_secret, settings.stripe_api_base)
            self.providers["card"] = stripe
            self.webhook_verifiers["stripe"] = stripe
        paypal_webhooks = PayPalWebhooks(settings.paypal_webhook_id, fetch_paypal_cert) if settings.paypal_webhook_id else None
        if paypal_webhooks is not None:
            self.webhook_verifiers["paypal"] = paypal_webhooks
        if settings.paypal_client_id and settings.paypal_client_secret:
            # a customer whose account settings name payment method "paypal" is collected and refunded through PayPal
            self.providers["paypal"] = PayPalProvider(settings.paypal_client_id, settings.paypal_client_secret, settings.paypal_api_base,
                                                      paypal_webhooks, settings.paypal_payout_receiver)
        if settings.daily_jobs:
            self.add_worker("payment-daily", self.daily_step, poll_seconds=settings.daily_poll_seconds)
        self.add_worker("ledger-hold-expiry", self.expire_holds_step, poll_seconds=settings.hold_expiry_poll_seconds)
        self.bus.subscribe([topics.INVOICES, topics.BILLING], settings.kafka_group, make_handler(self))
        self.add_worker("wallet-authorization-expiry", self._expire_authorizations, settings.authorization_expiry_poll_seconds)
        self.authorizer: AsyncAuthorizer | None = None
        if settings.async_authorizations and self.engine.dialect.name == "postgresql" and self.ledger.one_trip_holds:
            self.authorizer = AsyncAuthorizer(settings.database_url, settings.database_schema, self.ledger, self.relay.wake)

    @asynccontextmanager
    async def lifespan(self, app):
        async with super().lifespan(app):
            if self.authorizer is not None:
                await self.authorizer.open()
            try:
                yield
            finally:
                if self.authorizer is not None:
                    await self.authorizer.close()

    def close(self) -> None:
        for provider in self.providers.values():
            getattr(provider, "close", lambda: None)()
        self.ledger_writer.close()
        super().close()

    def _expire_authorizations(self) -> bool:
        """Release lapsed device reservations of every tenant; True while there may be more."""
        now = self.clock.now()
        with self.engine.connect() as conn:
            tenants = conn.execute(select(wallet_authorizations.c.tenant_id).where(
                wallet_authorizations.c.status == "open", wallet_authorizations.c.expires_at <= now).distinct()).scalars().all()
        return sum(expire(self.engine, self.ledger, tenant, now) for tenant in tenants) > 0

    def expire_holds_step(self) -> bool:
        """Release holds whose time ran out, in every tenant; True while a full page was expired (more may wait)."""
        return expire_holds(self.engine, self.ledger, self.clock.now())

    def daily_step(self) -> bool:
        """Scheduled collection and dunning for today; repeated calls the same day change nothing."""
        run_daily(self.engine, self.ledger, self.providers, self.sepa, self.dunning, self.clock.now().date())
        return False


def build(settings: PaymentSettings | None = None, **overrides) -> PaymentContainer:
    return PaymentContainer(settings or PaymentSettings(), **overrides)
