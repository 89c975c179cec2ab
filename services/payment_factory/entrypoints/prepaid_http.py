"""REST API of prepaid wallets: the balance a device sees, authorizations before consumption, the low-balance warning."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import orjson
from fastapi import APIRouter, Header, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from libs.platform.problems import Problem, not_found
from libs.platform.web import tenant_dependency
from services.payment_factory.app import prepaid


class AuthorizationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: Decimal = Field(gt=0, max_digits=18, decimal_places=4, description="gross amount to reserve")
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    ttl_seconds: int = Field(default=900, ge=1, le=7 * 24 * 3600, description="the reservation lapses after this")
    reference: str | None = Field(default=None, max_length=200, description="e.g. the meter or vehicle id")


class CaptureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: Decimal | None = Field(default=None, gt=0, max_digits=18, decimal_places=4, description="at most the reserved amount; "
                                   "omitted: all of it")
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class LowBalanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    low_balance: Decimal = Field(ge=0, max_digits=18, decimal_places=2, description="warn when the available balance falls below")
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class WalletViewOut(BaseModel):
    customer_id: str
    currency: str
    balance_minor: int = Field(description="posted: paid in minus paid out")
    available_minor: int = Field(description="what may still be spent: balance minus open authorizations")
    held_minor: int
    low_balance_minor: int
    open_authorizations: int


class AuthorizationOut(BaseModel):
    id: str
    customer_id: str
    currency: str
    amount_minor: int
    captured_minor: int
    status: str
    reference: str | None
    expires_at: object


_OUT_FIELDS = tuple(AuthorizationOut.model_fields)


def authorization_response(row: dict) -> Response:
    """AuthorizationOut as JSON, written directly: a device's hot path, where validating our own answer through the
    response model cost a tenth of the request's CPU. The bytes are the model's (orjson writes UTC as Z, as pydantic
    does); a unit test compares them."""
    return Response(orjson.dumps({name: row[name] for name in _OUT_FIELDS}, option=orjson.OPT_UTC_Z), status_code=201,
                    media_type="application/json")


def build_prepaid_router(c, money) -> APIRouter:
    router = APIRouter(tags=["prepaid wallets"])  # included under the payment router's /v1
    tenant = tenant_dependency(c.settings.internal_token)

    @router.get("/wallets/{customer_id}", response_model=WalletViewOut, summary="Balance, available amount and open authorizations")
    def get_wallet(customer_id: str, tenant_id: str = tenant, currency: str = Query("EUR", pattern=r"^[A-Z]{3}$")):
        return prepaid.wallet_view(c.engine, c.ledger, tenant_id, customer_id, currency)

    @router.put("/wallets/{customer_id}/low-balance", summary="Warn (event and webhook) when the available balance falls below this")
    def put_low_balance(customer_id: str, body: LowBalanceIn, tenant_id: str = tenant) -> dict:
        return prepaid.set_low_balance(c.engine, tenant_id, customer_id, money(body.low_balance, body.currency, "low_balance"))

    @router.post("/wallets/{customer_id}/authorizations", status_code=201, response_model=AuthorizationOut,
                 summary="May this device consume this much? Reserves it on the wallet, or answers 409 insufficient-funds")
    async def authorize(customer_id: str, body: AuthorizationIn, tenant_id: str = tenant,
                        idempotency_key: str = Header(min_length=1, max_length=200)):
        # from the event loop on PostgreSQL; what that path hands back (first use of a wallet, a retried key, a refusal)
        # and SQLite run the Python path in the thread pool
        amount, ttl, now = money(body.amount, body.currency), timedelta(seconds=body.ttl_seconds), c.clock.now()
        made = None
        if c.authorizer is not None:
            made = await c.authorizer.authorize(tenant_id, idempotency_key, customer_id, amount, ttl, body.reference, now)
        if made is None:
            made = await run_in_threadpool(prepaid.authorize, c.engine, c.ledger, tenant_id, idempotency_key, customer_id, amount, ttl,
                                           body.reference, now)
        return authorization_response(made)

    def _closing(action, authorization_id: str, *args):
        try:
            return action(c.engine, c.ledger, *args)
        except LookupError:
            raise not_found("authorization", authorization_id) from None
        except prepaid.AuthorizationClosed as exc:
            raise Problem(409, "authorization-closed", "Authorization no longer open", str(exc)) from None

    @router.post("/authorizations/{authorization_id}/capture", response_model=AuthorizationOut,
                 summary="Pay (part of) the reservation from the wallet; the rest is released")
    def capture(authorization_id: str, body: CaptureIn, tenant_id: str = tenant):
        amount = money(body.amount, body.currency) if body.amount is not None else None
        return _closing(prepaid.capture, authorization_id, tenant_id, authorization_id, amount)

    @router.post("/authorizations/{authorization_id}/void", response_model=AuthorizationOut, summary="Release the reservation")
    def void(authorization_id: str, tenant_id: str = tenant):
        return _closing(prepaid.void, authorization_id, tenant_id, authorization_id)

    return router
