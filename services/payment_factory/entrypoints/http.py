"""REST API of the payment factory: payments received, customer accounts, the ledger."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Header

from libs.money import Money
from libs.platform.problems import Problem
from libs.platform.web import make_service_app, tenant_dependency
from services.payment_factory.app.accounts import account_view, save_account_settings
from services.payment_factory.app.receivables import PaymentRefused, record_payment
from services.payment_factory.entrypoints import schemas as s

ERRORS = {
    PaymentRefused: lambda e: Problem(e.status, "payment-refused", "Payment refused", e.reason, errors=[{"field": e.field, "message": e.reason}]),
}


def build_router(c) -> APIRouter:
    router = APIRouter(prefix="/v1")
    tenant = tenant_dependency(c.settings.internal_token)

    @router.post("/payments", status_code=201, response_model=s.PaymentOut, tags=["payments"],
                 summary="Record money received (bank transfer, cash, ...) and match it to open invoices")
    def create_payment(body: s.PaymentIn, tenant_id: str = tenant, idempotency_key: str = Header(min_length=1, max_length=200)):
        try:
            amount = Money.parse(str(body.amount), body.currency)
        except ValueError as exc:
            raise Problem(422, "validation-error", "Invalid amount", str(exc), errors=[{"field": "amount", "message": str(exc)}]) from None
        result = record_payment(c.engine, tenant_id, idempotency_key, body.customer_id, amount, body.method, body.reference, body.invoice_ids)
        c.relay.wake()
        return result

    @router.get("/accounts/{customer_id}", response_model=s.AccountOut, tags=["accounts"],
                summary="The customer's account: balance, charges, money received, open items, collection settings")
    def get_account(customer_id: str, tenant_id: str = tenant, currency: str = "EUR"):
        view = account_view(c.engine, tenant_id, customer_id, currency)
        if view is None:
            raise Problem(404, "not-found", "Account not found", f"no account for customer {customer_id!r} in this tenant")
        return view

    @router.put("/accounts/{customer_id}/settings", tags=["accounts"], summary="Threshold, collection schedule and payment method")
    def put_settings(customer_id: str, body: s.AccountSettingsIn, tenant_id: str = tenant) -> dict:
        threshold = Money.from_decimal(body.threshold, body.currency)
        return save_account_settings(c.engine, tenant_id, customer_id, threshold, body.schedule, body.payment_method)

    return router


def create_app(container) -> FastAPI:
    return make_service_app(container, "cloudbill payment factory",
                            "Double-entry ledger, customer accounts, payments and collection.",
                            build_router(container), mapping=ERRORS)
