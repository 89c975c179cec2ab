"""REST API of the payment factory: payments received, refunds, chargebacks, customer accounts, wallets."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, FastAPI, Header, Query, Request

from libs.money import Money
from libs.platform.problems import Problem
from libs.platform.web import make_service_app, tenant_dependency
from services.payment_factory.app import credit_transfers, mandates, statements, wallet, webhooks
from services.payment_factory.app.collection import CollectionRefused, run_collection
from services.payment_factory.app.dunning import run_dunning
from services.payment_factory.app.mandates import MandateRefused
from services.payment_factory.domain.psp import ProviderError, WebhookRejected
from services.payment_factory.domain.sepa import SepaError
from services.payment_factory.app.accounts import account_view, save_account_settings
from services.payment_factory.app.payments import PaymentRefused, charge_back_payment, record_payment, refund_payment
from services.payment_factory.domain.ledger_errors import (CurrencyMismatch, IdempotencyConflict, InsufficientFunds, InvalidTransfer,
                                                           UnknownAccount, UnknownTransfer)
from services.payment_factory.entrypoints import schemas as s
from services.payment_factory.app.partners import PartnerRefused
from services.payment_factory.entrypoints.partners_http import build_partners_router
from services.payment_factory.entrypoints.prepaid_http import build_prepaid_router

ERRORS = {
    PaymentRefused: lambda e: Problem(e.status, e.slug, "Payment refused", e.reason, errors=[{"field": e.field, "message": e.reason}]),
    InsufficientFunds: lambda e: Problem(409, "insufficient-funds", "Insufficient funds", str(e),
                                         errors=[{"field": "amount", "message": f"{e.available} available"}]),
    CurrencyMismatch: lambda e: Problem(422, "currency-mismatch", "Wrong currency", str(e), errors=[{"field": "currency", "message": str(e)}]),
    IdempotencyConflict: lambda e: Problem(409, "idempotency-conflict", "Idempotency key reused", str(e),
                                           errors=[{"field": "Idempotency-Key", "message": str(e)}]),
    InvalidTransfer: lambda e: Problem(422, "invalid-transfer", "Invalid transfer", str(e), errors=[{"field": "amount", "message": str(e)}]),
    UnknownAccount: lambda e: Problem(404, "not-found", "Account not found", str(e)),
    UnknownTransfer: lambda e: Problem(404, "not-found", "Transfer not found", str(e)),
    MandateRefused: lambda e: Problem(e.status, e.slug, "Mandate refused", e.reason, errors=[{"field": e.field, "message": e.reason}]),
    CollectionRefused: lambda e: Problem(e.status, e.slug, "Collection refused", e.reason, errors=[{"field": e.field, "message": e.reason}]),
    SepaError: lambda e: Problem(422, "sepa-invalid", "Invalid SEPA data", e.message, errors=[{"field": e.field, "message": e.message}]),
    ProviderError: lambda e: Problem(502, "provider-error", "Payment provider refused", e.message,
                                     errors=[{"field": "provider", "message": f"{e.provider}: {e.code or e.message}"}]),
    WebhookRejected: lambda e: Problem(400, "webhook-rejected", "Webhook rejected", e.reason,
                                       errors=[{"field": "signature", "message": e.reason}]),
    PartnerRefused: lambda e: Problem(e.status, e.slug, "Revenue sharing refused", e.reason, errors=[{"field": e.field, "message": e.reason}]),
}

MAX_STATEMENT_BYTES = 20 * 1024 * 1024

IdempotencyKey = Header(min_length=1, max_length=200)


def money(amount, currency: str, field: str = "amount") -> Money:
    try:
        return Money.parse(str(amount), currency)
    except ValueError as exc:
        raise Problem(422, "validation-error", "Invalid amount", str(exc), errors=[{"field": field, "message": str(exc)}]) from None


def build_router(c) -> APIRouter:
    router = APIRouter(prefix="/v1")
    tenant = tenant_dependency(c.settings.internal_token)

    @router.post("/payments", status_code=201, response_model=s.PaymentOut, tags=["payments"],
                 summary="Record money received (bank transfer, cash, ...) and match it to open invoices")
    def create_payment(body: s.PaymentIn, tenant_id: str = tenant, idempotency_key: str = IdempotencyKey):
        amount = money(body.amount, body.currency)
        result = record_payment(c.engine, c.ledger, tenant_id, idempotency_key, body.customer_id, amount, body.method, body.reference,
                                body.invoice_ids)
        c.relay.wake()
        return result

    @router.post("/payments/{payment_id}/refunds", status_code=201, response_model=s.ReversalOut, tags=["payments"],
                 summary="Pay (part of) a payment back; at most what is left of it")
    def create_refund(payment_id: str, body: s.RefundIn, tenant_id: str = tenant, idempotency_key: str = IdempotencyKey):
        return refund_payment(c.engine, c.ledger, tenant_id, idempotency_key, payment_id, money(body.amount, body.currency), body.reason,
                              c.providers)

    @router.post("/payments/{payment_id}/chargebacks", status_code=201, response_model=s.ReversalOut, tags=["payments"],
                 summary="Record that the payment provider took a payment back (the payment's transfer is reversed)")
    def create_chargeback(payment_id: str, body: s.ChargebackIn, tenant_id: str = tenant, idempotency_key: str = IdempotencyKey):
        return charge_back_payment(c.engine, c.ledger, tenant_id, idempotency_key, payment_id, body.reason)

    @router.get("/accounts/{customer_id}", response_model=s.AccountOut, tags=["accounts"],
                summary="The customer's account: balance, charges, money received, open items, collection settings, statement")
    def get_account(customer_id: str, tenant_id: str = tenant, currency: str = Query("EUR", pattern=r"^[A-Z]{3}$"),
                    start: datetime | None = Query(None, alias="from", description="statement start (inclusive), ISO 8601 with zone"),
                    end: datetime | None = Query(None, alias="to", description="statement end (exclusive)")):
        for name, moment in (("from", start), ("to", end)):
            if moment is not None and moment.tzinfo is None:
                raise Problem(422, "validation-error", "Time without zone", f"{name} needs a UTC offset", errors=[{"field": name, "message": "needs a UTC offset"}])
        if start and end and end <= start:
            raise Problem(422, "validation-error", "Empty period", "to must be after from", errors=[{"field": "to", "message": "must be after from"}])
        view = account_view(c.engine, c.ledger, tenant_id, customer_id, currency, start, end)
        if view is None:
            raise Problem(404, "not-found", "Account not found", f"no account for customer {customer_id!r} in this tenant")
        return view

    @router.put("/accounts/{customer_id}/settings", tags=["accounts"], summary="Threshold, collection schedule and payment method")
    def put_settings(customer_id: str, body: s.AccountSettingsIn, tenant_id: str = tenant) -> dict:
        threshold = money(body.threshold, body.currency, "threshold")
        return save_account_settings(c.engine, tenant_id, customer_id, threshold, body.schedule, body.payment_method,
                                     body.payment_method_ref)

    @router.post("/accounts/{customer_id}/wallet/top-ups", status_code=201, response_model=s.WalletOut, tags=["accounts"],
                 summary="Credit the customer's prepaid wallet with money received")
    def wallet_top_up(customer_id: str, body: s.TopUpIn, tenant_id: str = tenant, idempotency_key: str = IdempotencyKey):
        return wallet.top_up(c.engine, c.ledger, tenant_id, idempotency_key, customer_id, money(body.amount, body.currency), body.method)

    @router.post("/accounts/{customer_id}/wallet/charges", status_code=201, response_model=s.WalletOut, tags=["accounts"],
                 summary="Spend from the prepaid wallet; refused beyond its balance")
    def wallet_charge(customer_id: str, body: s.WalletChargeIn, tenant_id: str = tenant, idempotency_key: str = IdempotencyKey):
        return wallet.charge(c.engine, c.ledger, c.ledger_writer, tenant_id, idempotency_key, customer_id, money(body.amount, body.currency), body.text)

    @router.post("/mandates", status_code=201, response_model=s.MandateOut, tags=["sepa"],
                 summary="Record a signed SEPA direct-debit mandate (IBAN, BIC and creditor id are checked)")
    def create_mandate(body: s.MandateIn, tenant_id: str = tenant):
        return mandates.create_mandate(c.engine, c.clock, tenant_id, body.customer_id, body.reference, body.creditor_id, body.scheme,
                                       body.kind, body.signed_on, body.debtor_name, body.iban, body.bic)

    @router.post("/payments/collection-runs", status_code=201, response_model=s.CollectionRunOut, tags=["collection"],
                 summary="Collect what is owed now (manual run): thresholds, schedules' retries and mandates respected")
    def collection_run(body: s.CollectionRunIn, tenant_id: str = tenant, idempotency_key: str = IdempotencyKey):
        today = body.run_on or c.clock.now().date()
        return run_collection(c.engine, c.ledger, c.providers, c.sepa, tenant_id, idempotency_key, today, True,
                              body.customer_ids or None, body.mandate_id)

    @router.post("/payments/credit-transfer-files", status_code=201, response_model=s.CreditTransferFileOut, tags=["sepa"],
                 summary="Pay bank refunds out: one pain.001 file with every refund not yet in a file")
    def credit_transfer_file(body: s.CreditTransferFileIn, tenant_id: str = tenant, idempotency_key: str = IdempotencyKey):
        return credit_transfers.credit_transfer_file(c.engine, c.ledger, c.sepa, tenant_id, idempotency_key,
                                                     body.execution_date or c.clock.now().date())

    @router.post("/payments/dunning-runs", status_code=201, response_model=s.DunningRunOut, tags=["collection"],
                 summary="Send the reminders overdue items have reached, charge their fees, announce overdue accounts")
    def dunning_run(body: s.DunningRunIn, tenant_id: str = tenant):
        result = run_dunning(c.engine, c.ledger, tenant_id, body.run_on or c.clock.now().date(), c.dunning)
        c.relay.wake()
        return result

    @router.post("/payments/bank-statements", response_model=s.StatementImportOut, tags=["sepa"],
                 summary="Import a camt.053 or camt.054 statement: match money received, reverse returned debits")
    async def bank_statement(request: Request, tenant_id: str = tenant):
        body = await request.body()
        if not body or len(body) > MAX_STATEMENT_BYTES:
            raise Problem(422, "validation-error", "No statement", "send the camt XML as the request body (at most 20 MB)",
                          errors=[{"field": "body", "message": "camt.053/054 XML expected"}])
        result = statements.import_statement(c.engine, c.ledger, tenant_id, body, c.dunning)
        c.relay.wake()
        return result

    router.include_router(build_prepaid_router(c, money))
    router.include_router(build_partners_router(c))
    return router


def build_webhook_router(c) -> APIRouter:
    """Provider webhooks: authenticated by the provider's signature, not by our tenant headers."""
    router = APIRouter(prefix="/v1")

    @router.post("/payments/webhooks/{provider}/{tenant_id}", response_model=s.WebhookOut, tags=["webhooks"],
                 summary="Receive a provider's event (Stripe, PayPal); verified, recorded once, then applied")
    async def receive_webhook(provider: str, tenant_id: str, request: Request):
        verifier = c.webhook_verifiers.get(provider)
        if verifier is None:
            raise Problem(404, "not-found", "Unknown provider", f"no webhooks configured for {provider!r}")
        body = await request.body()
        result = webhooks.receive(c.engine, c.ledger, verifier, tenant_id, body, dict(request.headers))
        c.relay.wake()
        return result

    return router


def create_app(container) -> FastAPI:
    app = make_service_app(container, "cloudbill payment factory",
                           "Double-entry ledger, customer accounts, payments, SEPA, card and wallet providers, collection and dunning.",
                           build_router(container), mapping=ERRORS)
    app.include_router(build_webhook_router(container))
    return app
