"""Request and response bodies of the invoice factory."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _LegalParty(BaseModel):
    """Name, postal address and tax identifiers: what § 14 Abs. 4 UStG needs of a party."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    street: str = Field(min_length=1, max_length=200)
    postcode: str = Field(min_length=1, max_length=20)
    city: str = Field(min_length=1, max_length=100)
    country: str = Field(pattern=r"^[A-Z]{2}$")
    vat_id: str | None = Field(default=None, pattern=r"^[A-Z]{2}[0-9A-Za-z+*.]{2,13}$")
    tax_number: str | None = Field(default=None, max_length=30)

    @field_validator("vat_id", "tax_number")
    @classmethod
    def _strip(cls, v):
        return v.replace(" ", "") if v else v


class SellerIn(_LegalParty):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", description="Seller electronic address (BT-34) and contact")
    phone: str | None = None
    contact_name: str | None = None
    commercial_register: str | None = Field(default=None, description="e.g. Amtsgericht Berlin HRB 12345")
    managing_directors: str | None = None


class BankIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    iban: str
    bic: str | None = None
    account_holder: str
    bank_name: str | None = None

    @field_validator("iban")
    @classmethod
    def _iban(cls, v: str) -> str:
        from schwifty import IBAN

        try:
            return str(IBAN(v).compact)
        except ValueError as exc:
            raise ValueError(f"invalid IBAN: {exc}") from None


class BrandingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    primary_color: str = Field(default="#1f4e79", pattern=r"^#[0-9a-fA-F]{6}$")
    logo_data_uri: str | None = Field(default=None, max_length=300_000, pattern=r"^data:image/(png|jpeg|svg\+xml);base64,[A-Za-z0-9+/=]+$")
    footer_text: str | None = Field(default=None, max_length=2000)


class InvoiceSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seller: SellerIn
    bank: BankIn
    payment_terms_days: int = Field(default=14, ge=0, le=365)
    invoice_prefix: str = Field(default="RE-", max_length=20, pattern=r"^[A-Za-z0-9\-_/]*$")
    credit_note_prefix: str = Field(default="GS-", max_length=20, pattern=r"^[A-Za-z0-9\-_/]*$")
    self_billing_prefix: str = Field(default="SB-", max_length=20, pattern=r"^[A-Za-z0-9\-_/]*$")
    branding: BrandingIn = BrandingIn()
    review_drafts: bool = Field(default=False, description="keep invoices as drafts (no number yet) until finalized by a clerk")


class InvoiceOut(BaseModel):
    id: str
    number: str | None
    type_code: str
    status: str
    customer_id: str
    issue_date: date | None
    due_date: date | None
    period_start: date
    period_end: date
    currency: str
    net_minor: int
    tax_minor: int
    gross_minor: int
    paid_minor: int
    archived: bool
    problems: list[dict] | None = None
    lines: list[dict] = []


class DocumentOut(BaseModel):
    tenant_id: str
    invoice_id: str
    number: str
    kind: Literal["pdf", "xml"]
    type_code: str
    customer_id: str
    issue_date: str
    period_start: str
    period_end: str
    key: str
    sha256: str
    size: int
    retain_until: str


class InvoiceRunOut(BaseModel):
    billing_run_id: str
    stage: Literal["issuing", "awaiting_review", "archiving", "dispatching", "completed"]
    invoices_requested: int | None = Field(description="announced by the billing run when it finished; null while it runs")
    received: int
    issued: int
    drafts: int
    rejected: int
    archived: int
    to_email: int
    emailed: int
    gross_minor: int
    first_number: str | None
    last_number: str | None
    percent_done: float


class PartnerIn(_LegalParty):
    """The partner who supplied the service: the seller on a self-billing statement, and where its money goes."""

    id: str = Field(min_length=1, max_length=64)
    number: str = Field(default="", max_length=60, description="the partner number the tenant knows it by")
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    language: Literal["de", "en"] = "de"
    e_invoice_format: Literal["zugferd", "xrechnung-cii", "xrechnung-ubl"] = "zugferd"
    email_invoices: bool = False
    bank: BankIn


class StatementLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str = Field(min_length=1, max_length=500)
    quantity: Decimal = Field(ge=0, max_digits=18, decimal_places=6)
    unit_code: str = Field(default="C62", pattern=r"^[A-Z0-9]{2,3}$")
    unit_price: Decimal = Field(ge=0, max_digits=18, decimal_places=6, description="never negative (EN 16931 BR-27)")
    net_minor: int = Field(description="the line's net in minor units; negative for a deduction")
    tax_category: Literal["S", "Z", "E", "AE", "K", "G", "O"] = "S"
    tax_rate: Decimal = Field(default=Decimal("19"), ge=0, le=100)
    detail: str | None = Field(default=None, max_length=500)


class SelfBillingIn(BaseModel):
    """A self-billing statement (Gutschrift, § 14 Abs. 2 Satz 5 UStG; UNTDID 389) the tenant issues for a partner."""

    model_config = ConfigDict(extra="forbid")
    statement_id: str = Field(min_length=1, max_length=120, description="idempotency: the same id never issues twice")
    partner: PartnerIn
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    period_start: date
    period_end: date
    lines: list[StatementLineIn] = Field(min_length=1, max_length=1000)

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str) -> str:
        from libs.money import check_currency

        return check_currency(v)

    @model_validator(mode="after")
    def _period(self):
        if self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")
        return self


class CreditLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    position: int = Field(ge=1, description="the line of the original invoice, counted from 1")
    amount: Decimal = Field(gt=0, max_digits=18, decimal_places=2, description="net amount to credit, at most what is left of the line")


class CreditNoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500, description="printed on the credit note")
    lines: list[CreditLineIn] = Field(min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _distinct(self):
        if len({line.position for line in self.lines}) != len(self.lines):
            raise ValueError("each position at most once")
        return self


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500, description="printed on the credit note")
