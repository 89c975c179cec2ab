"""Version 1 of the cross-service messages.

Money crosses the wire as integer minor units plus currency; prices and
quantities as decimal strings. Never floats.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from libs.contracts.envelope import Contract, register


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class UsageEventBody(_Part):
    """One event inside UsageAcceptedBatch.v1: the fields of a UsageAccepted.v1 body, no more, no fewer."""

    event_id: str
    subscription_id: str
    customer_id: str
    metric_code: str
    timestamp: datetime
    properties: dict[str, Any]
    payload_hash: str


@register
class UsageAccepted(Contract, UsageEventBody):
    """A validated usage event, keyed by subscription on the usage topic (its fields are those of UsageEventBody)."""

    TYPE: str = "UsageAccepted.v1"


@register
class UsageAcceptedBatch(Contract):
    """Many validated usage events of one tenant in one message on the usage topic (see `libs/contracts/usage_batch.py`).

    Every event in it is exactly a UsageAccepted.v1 body. The edge puts into one message only events whose
    subscriptions the keyed producer would send to the same partition, so per-subscription order and partition
    ownership are those of single UsageAccepted.v1 messages keyed by subscription. Consumers read both.
    """

    TYPE: str = "UsageAcceptedBatch.v1"
    events: list[UsageEventBody]


class PartySnapshot(_Part):
    id: str
    name: str
    number: str = ""  # the customer number the tenant knows the buyer by
    street: str = ""
    postcode: str = ""
    city: str = ""
    country: str = "DE"
    vat_id: str | None = None
    tax_number: str | None = None
    email: str | None = None
    buyer_reference: str | None = None
    language: Literal["de", "en"] = "de"
    e_invoice_format: Literal["zugferd", "xrechnung-cii", "xrechnung-ubl"] = "zugferd"
    email_invoices: bool = False


class LineShare(_Part):
    """A partner's part of one line's net amount, from one revenue-sharing rule; the platform keeps the rest.

    Signed like the line: a discount or credit line carries negative shares,
    so partners bear it in proportion. Never printed on the customer's invoice.
    """

    partner_id: str
    rule_id: str
    amount_minor: int
    role: str = ""  # provider, reseller, service, operator ... as the partner's contract names it
    basis: str = ""  # how the rule computed it, for internal reports, e.g. "20% of 1000"


class DraftLine(_Part):
    charge_code: str
    description: str
    kind: str
    quantity: Decimal
    unit_code: str = "C62"
    unit_price: Decimal
    net_minor: int
    tax_category: str = "S"
    tax_rate: Decimal = Decimal("19")
    detail: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    shares: list[LineShare] = []  # revenue-sharing split of net_minor; the platform keeps net_minor - sum(shares)


@register
class InvoiceRequested(Contract):
    """The billing factory asks for one invoice: a customer's rated lines for one period."""

    TYPE: str = "InvoiceRequested.v1"
    request_id: str  # idempotency: billing run + subscription + period
    billing_run_id: str
    subscription_id: str
    customer: PartySnapshot
    currency: str
    period_start: date
    period_end: date
    lines: list[DraftLine]
    prepaid_minor: int = 0  # gross already paid from the customer's prepaid wallet for this period


@register
class BillingRunCompleted(Contract):
    TYPE: str = "BillingRunCompleted.v1"
    billing_run_id: str
    as_of: datetime
    invoices_requested: int


class PartyShare(_Part):
    """One partner's part of a document's net amount (summed over its lines)."""

    partner_id: str
    net_minor: int


class TaxSubtotal(_Part):
    category: str
    rate: Decimal
    net_minor: int
    tax_minor: int


@register
class InvoiceIssued(Contract):
    """A finalized, numbered invoice (or credit note). Immutable from here on."""

    TYPE: str = "InvoiceIssued.v1"
    invoice_id: str
    number: str
    type_code: str
    customer_id: str
    customer_name: str
    currency: str
    issue_date: date
    due_date: date
    net_minor: int
    tax_minor: int
    gross_minor: int
    tax_breakdown: list[TaxSubtotal]
    corrects_invoice_id: str | None = None  # a credit note (381) names the invoice it cancels or corrects
    prepaid_minor: int = 0  # of gross_minor, already paid from the prepaid wallet during the period
    shares: list[PartyShare] = []  # partners' part of net_minor; on a credit note the part it takes back (positive, like its amounts)
    statement_id: str | None = None  # a self-billing statement (389) names the partner statement it documents


class Allocation(_Part):
    invoice_id: str
    amount_minor: int


@register
class PaymentReceived(Contract):
    TYPE: str = "PaymentReceived.v1"
    payment_id: str
    customer_id: str
    currency: str
    amount_minor: int
    method: str
    allocations: list[Allocation]


@register
class InvoicePaid(Contract):
    TYPE: str = "InvoicePaid.v1"
    invoice_id: str
    paid_at: datetime


@register
class AccountOverdue(Contract):
    """A customer's account reached a dunning level: other services may remind, restrict or suspend."""

    TYPE: str = "AccountOverdue.v1"
    customer_id: str
    currency: str
    level: int  # 1 reminder, 2 second reminder, 3 final notice
    outstanding_minor: int  # open items past due, fees included
    oldest_due_date: date
    invoice_ids: list[str]


@register
class DeadLettered(Contract):
    """A message that could not be accepted, with the reason; the original bytes kept for repair."""

    TYPE: str = "DeadLettered.v1"
    source_topic: str
    reason: str
    detail: list[dict[str, Any]] = []
    original: str


@register
class UsageCharged(Contract):
    """A prepaid subscription's usage so far in its open period costs `cumulative_minor` gross; the wallet pays the increase."""

    TYPE: str = "UsageCharged.v1"
    subscription_id: str
    customer_id: str
    currency: str
    period_start: datetime  # the open period's exact start, as the billing factory keys it
    amount_minor: int  # the increase since the last charge of this period
    cumulative_minor: int


@register
class UsagePaid(Contract):
    """The wallet paid `paid_minor` of a UsageCharged (the rest, `unpaid_minor`, stays on the receivable)."""

    TYPE: str = "UsagePaid.v1"
    subscription_id: str
    customer_id: str
    currency: str
    period_start: datetime  # the open period's exact start, as the billing factory keys it
    paid_minor: int
    unpaid_minor: int


@register
class WalletBalanceAlert(Contract):
    """A prepaid wallet fell below its low-balance threshold (`low`) or has nothing left to spend (`depleted`)."""

    TYPE: str = "WalletBalanceAlert.v1"
    customer_id: str
    currency: str
    level: str  # low | depleted
    available_minor: int
    threshold_minor: int
    unpaid_minor: int = 0  # usage the wallet could not pay; it stays on the customer's receivable


@register
class BudgetThresholdCrossed(Contract):
    """A postpaid subscription's usage or charges in its open period reached a budget level."""

    TYPE: str = "BudgetThresholdCrossed.v1"
    budget_id: str
    subscription_id: str
    customer_id: str
    kind: str  # charges | usage
    charge_code: str | None = None
    level: int  # percent of the limit
    value: Decimal  # net minor units (charges) or quantity (usage) so far in the period
    limit: Decimal
    period_start: datetime


class PartnerBank(_Part):
    holder: str
    iban: str
    bic: str | None = None


@register
class PartnerChanged(Contract):
    """A partner's master data as the billing factory holds it now: the payment factory pays out and states from it."""

    TYPE: str = "PartnerChanged.v1"
    partner_id: str
    code: str
    party: PartySnapshot  # name, address, VAT id or tax number: the seller on its self-billing statements
    role: str
    parent_id: str | None = None  # the reseller above it in a chain
    bank: PartnerBank | None = None  # where SEPA payouts go
    stripe_account: str | None = None  # where Stripe (Connect-style) transfers go
    payout_method: Literal["sepa", "stripe", "none"] = "sepa"
    active: bool = True


@register
class PartnerStatementRequested(Contract):
    """The payment factory asks for a partner's self-billing statement (Gutschrift, 389) over what was settled to it."""

    TYPE: str = "PartnerStatementRequested.v1"
    statement_id: str
    partner: PartySnapshot
    bank: PartnerBank | None = None
    currency: str
    period_start: date
    period_end: date
    lines: list[DraftLine]
