"""REST API of revenue sharing: settlement basis, partner fees, statements, payouts, a partner's account, an invoice's settlement."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter, Header, Query
from pydantic import BaseModel, ConfigDict, Field

from libs.platform.problems import Problem
from libs.platform.web import tenant_dependency
from services.payment_factory.app import partner_fees, partner_payouts, partner_statements, partners, settlement
from services.payment_factory.domain.settlement import SettlementBasis

Currency = Field(pattern=r"^[A-Z]{3}$")


class SettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    settlement_basis: Literal["cash", "accrual"] = "cash"


class SettingsOut(BaseModel):
    settlement_basis: str = Field(description="cash: partners earn as the customer pays; accrual: when the invoice is issued")


class FeeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    partner_id: str = Field(min_length=1, max_length=64)
    currency: str = Currency
    amount_minor: int = Field(gt=0, le=10**13)
    description: str = Field(min_length=1, max_length=200)


class FeeOut(BaseModel):
    id: str
    partner_id: str
    currency: str
    amount_minor: int
    description: str
    transfer_id: str
    statement_id: str | None
    created_at: datetime


class StatementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    partner_id: str = Field(min_length=1, max_length=64)
    currency: str = Currency
    period_start: date
    period_end: date


class StatementLineOut(BaseModel):
    description: str
    net_minor: int


class StatementOut(BaseModel):
    id: str
    partner_id: str
    currency: str
    period_start: date
    period_end: date
    status: str = Field(description="requested (the 389 is being issued), issued, paid")
    number: str | None = Field(description="the self-billing statement's number once issued")
    tax_category: str
    tax_rate: str
    lines: list[StatementLineOut]
    net_minor: int
    tax_minor: int
    gross_minor: int
    fees_minor: int = Field(description="the partner's fees netted against this statement")
    payout_due_minor: int = Field(description="gross minus fees")
    payout_id: str | None
    created_at: datetime


class PayoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    currency: str = Currency
    method: Literal["sepa", "stripe"]
    execution_date: date | None = None
    partner_ids: list[str] = Field(default_factory=list, max_length=500, description="empty: every partner paid by this method")


class PayoutItemOut(BaseModel):
    partner_id: str
    amount_minor: int
    statement_ids: list[str]
    transfer_id: str
    provider_reference: str | None


class CarriedOut(BaseModel):
    partner_id: str
    payable_minor: int
    due_minor: int


class PayoutOut(BaseModel):
    id: str
    currency: str
    method: str
    execution_date: date
    total_minor: int
    items: list[PayoutItemOut]
    carried: list[CarriedOut] = Field(description="partners with statements due whose payable pays nothing now")
    pain001: str | None = Field(description="the SEPA credit-transfer file (pain.001.001.03)")
    created_at: datetime


class PartnerEntryOut(BaseModel):
    date: datetime
    text: str
    kind: str = Field(description="revenue_share, partner_fee, statement_vat, partner_payout")
    amount_minor: int = Field(description="positive: owed to the partner; negative: paid out or owed by the partner")
    transfer_id: str


class PartnerAccountOut(BaseModel):
    partner_id: str
    currency: str
    balance_minor: int = Field(description="what the platform owes the partner (negative: what the partner owes)")
    entries: list[PartnerEntryOut]


class PartnerSettledOut(BaseModel):
    partner_id: str
    share_minor: int
    settled_minor: int


class SettlementOut(BaseModel):
    invoice_id: str
    number: str
    currency: str
    basis: str
    net_minor: int
    tax_minor: int
    gross_minor: int
    settled_minor: int
    partners: list[PartnerSettledOut]


def build_partners_router(c) -> APIRouter:
    router = APIRouter()
    tenant = tenant_dependency(c.settings.internal_token)
    key_header = Header(min_length=1, max_length=200)
    tags = ["revenue sharing"]

    @router.get("/revenue-sharing/settings", response_model=SettingsOut, tags=tags, summary="The tenant's settlement basis")
    def get_settings(tenant_id: str = tenant):
        return partners.get_settings(c.engine, tenant_id)

    @router.put("/revenue-sharing/settings", response_model=SettingsOut, tags=tags,
                summary="Settle partners on cash (default) or accrual basis, for invoices issued from now on")
    def put_settings(body: SettingsIn, tenant_id: str = tenant):
        return partners.save_settings(c.engine, c.ledger, tenant_id, SettlementBasis(body.settlement_basis))

    @router.post("/partner-fees", status_code=201, response_model=FeeOut, tags=tags,
                 summary="Charge a partner a fee: debits its payable, netted on its next statement")
    def create_fee(body: FeeIn, tenant_id: str = tenant, idempotency_key: str = key_header):
        return partner_fees.charge_fee(c.engine, c.ledger, tenant_id, idempotency_key, body.partner_id, body.currency, body.amount_minor,
                                       body.description)

    @router.post("/partner-statements", status_code=201, response_model=StatementOut, tags=tags,
                 summary="State what was settled to a partner in a period; the invoice factory issues it as a 389")
    def create_statement(body: StatementIn, tenant_id: str = tenant):
        result = partner_statements.request_statement(c.engine, c.ledger, tenant_id, body.partner_id, body.currency, body.period_start,
                                                      body.period_end)
        c.relay.wake()
        return result

    @router.get("/partner-statements", response_model=list[StatementOut], tags=tags, summary="Partner statements, oldest first")
    def list_statements(tenant_id: str = tenant, partner_id: str | None = Query(None, max_length=64)):
        return partner_statements.list_statements(c.engine, tenant_id, partner_id)

    @router.get("/partner-statements/{statement_id}", response_model=StatementOut, tags=tags, summary="One partner statement")
    def get_statement(statement_id: str, tenant_id: str = tenant):
        return partner_statements.get_statement(c.engine, tenant_id, statement_id)

    @router.post("/partner-payouts", status_code=201, response_model=PayoutOut, tags=tags,
                 summary="Pay partners what their issued statements are due (SEPA file or Stripe transfers)")
    def create_payout(body: PayoutIn, tenant_id: str = tenant, idempotency_key: str = key_header):
        return partner_payouts.run_payout(c.engine, c.ledger, c.sepa, c.providers.get("card"), tenant_id, idempotency_key, body.currency,
                                          body.method, body.execution_date or c.clock.now().date(), body.partner_ids or None)

    @router.get("/partner-payouts/{payout_id}", response_model=PayoutOut, tags=tags, summary="One payout, with its pain.001 file")
    def get_payout(payout_id: str, tenant_id: str = tenant):
        return partner_payouts.get_payout(c.engine, tenant_id, payout_id)

    @router.get("/partner-accounts/{partner_id}", response_model=PartnerAccountOut, tags=tags,
                summary="The partner's payable in the ledger: balance, shares, reversals, fees, VAT, payouts")
    def get_partner_account(partner_id: str, tenant_id: str = tenant, currency: str = Query("EUR", pattern=r"^[A-Z]{3}$")):
        return partners.partner_account(c.engine, c.ledger, tenant_id, partner_id, currency)

    @router.get("/partner-settlements/{invoice_id}", response_model=SettlementOut, tags=tags,
                summary="An invoice's revenue-sharing settlement: effective amounts, settled so far, each partner's part")
    def get_settlement(invoice_id: str, tenant_id: str = tenant):
        with c.engine.connect() as conn:
            view = settlement.settlement_view(conn, tenant_id, invoice_id)
        if view is None:
            raise Problem(404, "not-found", "Settlement not found", f"no invoice {invoice_id!r} with partner shares in this tenant")
        return view

    return router
