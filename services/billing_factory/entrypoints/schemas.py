"""Request and response bodies of the billing factory."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

CODE = r"^[a-z0-9_.\-]{1,100}$"
EXTERNAL_ID = r"^[A-Za-z0-9._:\-]{1,200}$"


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    external_id: str = Field(pattern=EXTERNAL_ID, description="Your id for the customer; usage events name it")
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    street: str = Field(default="", max_length=200)
    postcode: str = Field(default="", max_length=20)
    city: str = Field(default="", max_length=100)
    country: str = Field(default="DE", pattern=r"^[A-Z]{2}$")
    vat_id: str | None = Field(default=None, pattern=r"^[A-Z]{2}[0-9A-Za-z+*.]{2,13}$")
    tax_number: str | None = Field(default=None, max_length=30)
    buyer_reference: str | None = Field(default=None, max_length=200, description="Leitweg-ID / BT-10, required for XRechnung")
    language: Literal["de", "en"] = "de"
    e_invoice_format: Literal["zugferd", "xrechnung-cii", "xrechnung-ubl"] = "zugferd"
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    email_invoices: bool = Field(default=False, description="send each invoice (PDF with e-invoice) to the customer's e-mail")
    reseller: str | None = Field(default=None, max_length=100, description="Code or id of the partner (reseller) that sold this customer")


class CustomerOut(CustomerIn):
    model_config = ConfigDict(extra="ignore")
    id: str
    reseller_id: str | None = None
    created_at: datetime


class MetricIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    aggregation: Literal["count", "sum", "max", "unique_count", "latest", "time_weighted_sum"] = "count"
    field: str | None = Field(default=None, max_length=100, description="Event property aggregated (not for count)")
    decimals: int = Field(default=6, ge=0, le=12, description="Most decimals a quantity may carry")
    group_by: str | None = Field(default=None, max_length=100)


class MetricOut(MetricIn):
    model_config = ConfigDict(extra="ignore")
    id: str


class TierIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    up_to: Decimal | None = Field(default=None, description="Upper bound of the tier (inclusive); null for the last tier")
    unit_price: Decimal
    flat_fee: Decimal = Decimal(0)


class PriceIn(BaseModel):
    """The price fields of a charge; which ones apply depends on the charge's model."""

    model_config = ConfigDict(extra="forbid")
    amount: Decimal | None = Field(default=None, description="flat_fee / bundle / one_time amount")
    unit_price: Decimal | None = None
    tiers: list[TierIn] | None = None
    package_size: Decimal | None = None
    package_price: Decimal | None = None
    percentage: Decimal | None = Field(default=None, description="percent of the transaction amount, e.g. 2.9")
    fixed_fee: Decimal | None = Field(default=None, description="per transaction")
    min_per_transaction: Decimal | None = None
    max_per_transaction: Decimal | None = None


class PriceVersionIn(PriceIn):
    """A price valid in [valid_from, valid_until); a change inside a period splits that period's lines."""

    valid_from: datetime
    valid_until: datetime | None = None
    prices: dict[str, PriceIn] | None = Field(default=None, description="the version's price in other currencies")


class ParameterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    property: str = Field(min_length=1, max_length=100)
    mode: Literal["value", "sum"] = "value"
    label: str | None = Field(default=None, max_length=100)


class ChargeIn(PriceIn):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200, description="Shown on the invoice line")
    model: Literal["flat_fee", "per_unit", "graduated", "volume", "package", "percentage", "one_time", "bundle"]
    metric: str | None = Field(default=None, pattern=CODE)
    product: str | None = Field(default=None, pattern=CODE, description="product code shown with the line")
    billing: Literal["in_advance", "in_arrears"] = "in_advance"
    quantity: Decimal | None = Field(default=None, description="one_time: how many")
    components: list[str] | None = Field(default=None, description="bundle: what the package price includes (info lines)")
    prices: dict[str, PriceIn] | None = Field(default=None, description="currency -> price fields in that currency")
    versions: list[PriceVersionIn] | None = Field(default=None, description="dated prices replacing this one while valid")
    parameter: ParameterIn | None = Field(default=None, description="info line with a property's values or sum")
    amount_field: str | None = Field(default=None, description="event property holding the transaction amount")
    free_units: Decimal = Decimal(0)
    minimum_amount: Decimal | None = Field(default=None, description="minimum commitment per period (true-up line)")
    maximum_amount: Decimal | None = Field(default=None, description="cap per period (own line)")
    group_by: str | None = None
    unit_code: str = Field(default="C62", pattern=r"^[A-Z0-9]{2,3}$", description="UN/ECE Rec 20 unit")
    tax_rate: Decimal = Decimal(19)
    tax_category: Literal["S", "Z", "E", "AE", "K", "G", "O"] = "S"


class DiscountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    percentage: Decimal | None = None
    amount: Decimal | None = None
    periods: int | None = Field(default=None, ge=1, description="for this many periods; null: for good")
    charge_codes: list[str] | None = Field(default=None, description="only these charges; empty: all")


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    interval: Literal["week", "month", "quarter", "year"] = "month"
    alignment: Literal["calendar", "anniversary"] = "calendar"
    pay_in_advance: bool = True
    rounding: Literal["half_up", "half_even", "up", "down", "floor"] = "half_up"
    charges: list[ChargeIn] = Field(min_length=1, max_length=50)
    discounts: list[DiscountIn] | None = None


class PlanOut(PlanIn):
    model_config = ConfigDict(extra="ignore")
    id: str
    currencies: list[str] = Field(description="the plan's currency and every other one all its charges are priced in")


class ProductIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=1000)


class ProductOut(ProductIn):
    model_config = ConfigDict(extra="ignore")
    id: str


class CouponIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    percentage: Decimal | None = Field(default=None, ge=0, le=100)
    amount: Decimal | None = Field(default=None, ge=0)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$", description="required with amount")
    periods: int | None = Field(default=None, ge=1, description="for this many periods from the one it is applied in; null: for good")
    charge_codes: list[str] | None = None


class CouponOut(CouponIn):
    model_config = ConfigDict(extra="ignore")
    id: str


class AtIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at: datetime | None = Field(default=None, description="default: now")


class CancelIn(AtIn):
    at_period_end: bool = Field(default=False, description="end when the period running at `at` ends")


class ChangePlanIn(AtIn):
    plan: str = Field(pattern=EXTERNAL_ID)


class ApplyCouponIn(AtIn):
    coupon: str = Field(pattern=EXTERNAL_ID)


class CreditIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="Guthaben", min_length=1, max_length=200)
    amount: Decimal = Field(gt=0, description="in the subscription's currency")


class CreditOut(BaseModel):
    id: str
    subscription_id: str
    name: str
    currency: str
    granted_minor: int
    remaining_minor: int


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    quantity: Decimal = Field(default=Decimal(1), gt=0)
    unit_price: Decimal
    tax_category: Literal["S", "Z", "E", "AE", "K", "G", "O"] = "S"
    tax_rate: Decimal = Decimal(19)
    ordered_at: datetime
    clearing: dict[str, Decimal] | None = Field(
        default=None, description="Clearing key per partner code (e.g. kilometres per transport operator): clearing share rules split the "
                                  "order's net by it. Each partner needs a contract on the order date.")


class OrderOut(OrderIn):
    model_config = ConfigDict(extra="ignore")
    id: str
    subscription_id: str
    billed_run_id: str | None


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer: str = Field(pattern=EXTERNAL_ID, description="customer id or external id")
    plan: str = Field(pattern=EXTERNAL_ID, description="plan id or code")
    started_at: datetime
    external_id: str | None = Field(default=None, pattern=EXTERNAL_ID)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$", description="one of the plan's currencies; default the customer's")


class SubscriptionOut(BaseModel):
    id: str
    external_id: str | None
    customer_id: str
    plan_id: str
    status: str
    started_at: datetime
    ends_at: datetime | None
    currency: str
    cancel_at_period_end: bool = False


class BillingRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: datetime | None = Field(default=None, description="bill every period that ended by this instant; default now")


class BudgetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["charges", "usage"] = Field(description="charges: the period's net amount; usage: the quantity one charge bills")
    limit: str = Field(max_length=40, description="an amount in the subscription's currency (charges) or a quantity (usage)")
    charge_code: str | None = Field(default=None, max_length=100, description="the plan's charge whose quantity counts (usage budgets)")
    levels: list[int] = Field(default=[80, 100], min_length=1, max_length=10, description="percent of the limit, ascending")


class RerateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    period_start: datetime = Field(description="start of a billed period, as in the billed period (with zone)")

    @field_validator("period_start")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError("needs a UTC offset")
        return v


class BillingRunOut(BaseModel):
    id: str
    as_of: datetime
    status: Literal["running", "completed"]
    invoices_requested: int
    subscriptions_total: int = 0
    subscriptions_done: int = 0
    completed_at: datetime | None = None


class ResolveItem(BaseModel):
    customer: str
    metric: str
    subscription: str | None = None


class ResolveIn(BaseModel):
    """The distinct (customer, metric, subscription) of a usage batch, and its event ids with their fingerprints."""

    items: list[ResolveItem] = Field(max_length=1000)
    event_ids: list[str] = Field(default_factory=list, max_length=1000)
    payload_hashes: list[str] = Field(default_factory=list, max_length=1000)


class PlanPreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    plan: str | None = Field(default=None, description="code or id of a stored plan")
    definition: PlanIn | None = Field(default=None, description="or an unsaved plan to try out")
    quantities: dict[str, Decimal] = Field(default_factory=dict, description="metric code -> quantity for the whole period")
    period_start: datetime | None = Field(default=None, description="default: the current calendar period")
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$", description="one of the plan's currencies; default its own")


class PartnerBankIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    holder: str | None = Field(default=None, max_length=140, description="Account holder; defaults to the partner's name")
    iban: str = Field(min_length=15, max_length=42)
    bic: str | None = Field(default=None, max_length=11)


class PartnerContractIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference: str = Field(min_length=1, max_length=100, description="The contract's number or name")
    valid_from: date
    valid_to: date | None = Field(default=None, description="Exclusive; open-ended when absent")


class PartnerContractOut(PartnerContractIn):
    model_config = ConfigDict(extra="ignore")
    id: str
    partner_id: str


class PartnerIn(BaseModel):
    """A party that delivers part of the service and gets a share: provider, service partner, reseller, transport operator."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=CODE, description="Your code for the partner; clearing keys and rules name it")
    name: str = Field(min_length=1, max_length=200)
    role: Literal["provider", "service", "reseller", "operator", "other"] = "provider"
    parent: str | None = Field(default=None, max_length=100, description="Code or id of the reseller above this one in a chain")
    street: str = Field(min_length=1, max_length=200)
    postcode: str = Field(min_length=1, max_length=20)
    city: str = Field(min_length=1, max_length=100)
    country: str = Field(default="DE", pattern=r"^[A-Z]{2}$")
    vat_id: str | None = Field(default=None, pattern=r"^[A-Z]{2}[0-9A-Za-z+*.]{2,13}$")
    tax_number: str | None = Field(default=None, max_length=30)
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    language: Literal["de", "en"] = "de"
    payout_method: Literal["sepa", "stripe", "none"] = "sepa"
    bank: PartnerBankIn | None = None
    stripe_account: str | None = Field(default=None, max_length=100, description="Connected account id for Stripe transfers")
    contract: PartnerContractIn | None = Field(default=None, description="The first contract; more with POST /v1/partners/{partner}/contracts")


class PartnerPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    parent: str | None = Field(default=None, max_length=100)
    street: str | None = Field(default=None, min_length=1, max_length=200)
    postcode: str | None = Field(default=None, min_length=1, max_length=20)
    city: str | None = Field(default=None, min_length=1, max_length=100)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    vat_id: str | None = Field(default=None, pattern=r"^[A-Z]{2}[0-9A-Za-z+*.]{2,13}$")
    tax_number: str | None = Field(default=None, max_length=30)
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    payout_method: Literal["sepa", "stripe", "none"] | None = None
    bank: PartnerBankIn | None = None
    stripe_account: str | None = Field(default=None, max_length=100)


class PartnerOut(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str
    code: str
    name: str
    role: str
    parent_id: str | None
    street: str
    postcode: str
    city: str
    country: str
    vat_id: str | None
    tax_number: str | None
    email: str | None
    language: str
    payout_method: str
    bank: PartnerBankIn | None
    stripe_account: str | None
    contracts: list[PartnerContractOut]
    created_at: datetime
    updated_at: datetime


class ShareRuleIn(BaseModel):
    """How a partner takes part in a line's net. Rules run in `order`; each is carved from the platform's part or, for stacking
    along a reseller chain, from the share of the partner named in `source` (e.g. a sub-reseller's 25 % of its reseller's share)."""

    model_config = ConfigDict(extra="forbid")
    partner: str = Field(max_length=100, description="Code or id of the partner who receives the share")
    kind: Literal["percent", "commission", "fixed_per_transaction", "fixed_per_period", "per_unit", "clearing"]
    order: int = Field(default=0, ge=0, le=10_000)
    percent: Decimal | None = Field(default=None, description="percent, commission, clearing (the pool, default 100)")
    amount: Decimal | None = Field(default=None, description="fixed_per_transaction, fixed_per_period, per_unit: major currency units")
    source: str | None = Field(default=None, max_length=100, description="Code or id of the partner whose share this is carved from")
    of_source: bool = Field(default=False, description="percent of the source's share instead of the line's net")
    plan_codes: list[str] = Field(default=[], description="Only lines of these plans (empty: all)")
    charge_codes: list[str] = Field(default=[], description="Only these charges or order codes (empty: all)")
    metric_codes: list[str] = Field(default=[], description="Only lines of these metrics (empty: all)")
    resold_only: bool = Field(default=False, description="Only for customers sold by this partner or a reseller below it")
    min_minor: int | None = Field(default=None, ge=0, description="At least this much per subscription period")
    max_minor: int | None = Field(default=None, ge=0, description="At most this much per subscription period")
    valid_from: date | None = None
    valid_to: date | None = None


class ShareRuleOut(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str
    partner_id: str
    kind: str
    order: int
    percent: Decimal | None
    amount: Decimal | None
    source_id: str | None
    of_source: bool
    plan_codes: list[str]
    charge_codes: list[str]
    metric_codes: list[str]
    resold_only: bool
    min_minor: int | None
    max_minor: int | None
    valid_from: date | None
    valid_to: date | None
