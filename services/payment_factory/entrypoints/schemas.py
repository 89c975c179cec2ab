"""Request and response bodies of the payment factory."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_id: str = Field(min_length=1, max_length=64)
    amount: Decimal = Field(gt=0, description="in major units, e.g. 119.00; at most the currency's decimals")
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    method: Literal["bank_transfer", "sepa_direct_debit", "card", "paypal", "cash"] = "bank_transfer"
    reference: str = Field(default="", max_length=200, description="e.g. the invoice number from the bank transfer's remittance text")
    invoice_ids: list[str] = Field(default_factory=list, max_length=100)


class AllocationOut(BaseModel):
    invoice_id: str
    amount_minor: int


class PaymentOut(BaseModel):
    id: str
    customer_id: str
    currency: str
    amount_minor: int
    method: str
    reference: str | None
    allocations: list[AllocationOut]
    unallocated_minor: int
    received_at: datetime


class OpenItemOut(BaseModel):
    invoice_id: str
    number: str
    issue_date: date
    due_date: date
    amount_minor: int
    paid_minor: int
    outstanding_minor: int


class StatementLine(BaseModel):
    date: datetime
    text: str
    amount_minor: int = Field(description="positive: money in or credit; negative: a charge")
    transfer_id: str


class AccountOut(BaseModel):
    customer_id: str
    currency: str
    balance_minor: int = Field(description="money received minus charges: negative means the customer owes")
    charges_minor: int
    received_minor: int
    wallet_minor: int = Field(description="spendable prepaid balance in this currency")
    open_items: list[OpenItemOut]
    threshold_minor: int = Field(description="below this outstanding amount nothing is collected")
    schedule: str
    payment_method: str
    statement_from: datetime
    statement_to: datetime
    opening_balance_minor: int
    closing_balance_minor: int
    statement: list[StatementLine]


class AccountSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    threshold: Decimal = Field(default=Decimal("5.00"), ge=0)
    schedule: Literal["monthly", "weekly", "quarterly", "on_invoice", "manual"] = "monthly"
    payment_method: Literal["bank_transfer", "sepa_direct_debit", "card", "paypal"] = "bank_transfer"
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    payment_method_ref: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$",
                                           description="the customer's saved method at the provider, charged without the customer "
                                                       "present: a PayPal vault id (payment method paypal), a Stripe PaymentMethod (card)")


class AmountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: Decimal = Field(gt=0, description="in major units; at most the currency's decimals")
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class RefundIn(AmountIn):
    reason: str = Field(default="", max_length=200)


class ChargebackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=200, description="the scheme's reason, e.g. 'fraudulent' or a card network code")


class ReversalOut(BaseModel):
    id: str
    payment_id: str
    kind: str
    amount_minor: int
    reason: str
    transfer_id: str
    reopened: list[AllocationOut]
    created_at: datetime


class TopUpIn(AmountIn):
    method: Literal["bank_transfer", "sepa_direct_debit", "card", "paypal"] = "bank_transfer"


class WalletChargeIn(AmountIn):
    text: str = Field(default="", max_length=200)


class WalletOut(BaseModel):
    transfer_id: str
    customer_id: str
    currency: str
    wallet_minor: int = Field(description="spendable: posted credits minus posted and held debits")


class MandateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_id: str = Field(min_length=1, max_length=64)
    reference: str = Field(min_length=1, max_length=35, description="the mandate reference (UMR) printed on the signed mandate")
    creditor_id: str = Field(min_length=8, max_length=35, description="SEPA creditor identifier, e.g. DE98ZZZ09999999999")
    scheme: Literal["CORE", "B2B"] = "CORE"
    kind: Literal["recurring", "one_off"] = "recurring"
    signed_on: date
    debtor_name: str = Field(min_length=1, max_length=70)
    iban: str = Field(min_length=15, max_length=42)
    bic: str | None = Field(default=None, max_length=11, description="derived from the IBAN when omitted")


class MandateOut(BaseModel):
    id: str
    customer_id: str
    reference: str
    creditor_id: str
    scheme: str
    kind: str
    signed_on: date
    debtor_name: str
    iban: str
    bic: str
    last_used_on: date | None
    revoked: bool


class CollectionRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    run_on: date | None = Field(default=None, description="defaults to today (UTC)")
    customer_ids: list[str] = Field(default_factory=list, max_length=1000)
    mandate_id: str | None = Field(default=None, description="collect through this mandate (one customer only)")


class CollectionOut(BaseModel):
    id: str
    customer_id: str
    method: str
    mandate_id: str | None
    sequence_type: str | None
    currency: str
    amount_minor: int
    status: str
    end_to_end_id: str
    attempt: int
    due_on: date
    payment_id: str | None


class CollectionRunOut(BaseModel):
    id: str
    run_on: date
    trigger: str
    total_minor: int
    pain008: str | None = Field(description="the SEPA direct-debit file for the bank, validated against pain.008.001.02")
    collections: list[CollectionOut]


class DunningRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    run_on: date | None = None


class DunningNoticeOut(BaseModel):
    customer_id: str
    invoice_id: str
    number: str
    level: int
    name: str
    fee_minor: int
    outstanding_minor: int
    currency: str


class DunningRunOut(BaseModel):
    run_on: date
    notices: list[DunningNoticeOut]


class StatementEntryOut(BaseModel):
    reference: str
    amount_minor: int
    currency: str
    outcome: str
    payment_id: str | None = None
    customer_id: str | None = None
    return_code: str | None = None
    retry_on: date | None = None
    remittance: str | None = None


class StatementImportOut(BaseModel):
    entries: int
    matched: int
    returns: int
    unmatched: int
    results: list[StatementEntryOut]


class WebhookOut(BaseModel):
    event_id: str
    duplicate: bool
    outcome: str


class CreditTransferFileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    execution_date: date | None = Field(default=None, description="defaults to today (UTC)")


class SkippedRefund(BaseModel):
    refund_id: str
    reason: str


class CreditTransferFileOut(BaseModel):
    id: str
    execution_date: date
    transfers: int
    total_minor: int
    pain001: str | None = Field(description="the SEPA credit-transfer file, validated against pain.001.001.03")
    skipped: list[SkippedRefund]
